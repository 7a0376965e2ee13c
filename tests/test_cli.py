"""The `connector` command: every command documents itself; `serve` runs web and worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import requests
from click.testing import CliRunner

from connector.cli import cli

EXPECTED = {
    "serve",
    "web",
    "worker",
    "db",
    "reconcile",
    "sandbox",
    "demo",
    "install",
    "uninstall",
    "doctor",
    "replies",
}


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()
    }
    assert listed >= EXPECTED


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for path in all_commands(cli):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output and len(result.output.splitlines()) > 3, path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_health_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 40
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, ready
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {
            "status": "ok"
        }
        while "Periodic tasks are enabled" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)  # the worker is up too
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "Shutting down gracefully" in output  # the worker finished its running tasks
    assert (tmp_path / "connector.db").exists() and (tmp_path / "connector-queue.db").exists()


def test_the_web_tier_under_gunicorn_logs_accepted_webhooks_as_configured(tmp_path: Path) -> None:
    import base64
    import hashlib
    import hmac
    import json

    port, secret = free_port(), "whsec-logging-test"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(CONNECTOR_LOG_JSON="true", CONNECTOR_ZENDESK_WEBHOOK_SECRET=secret)
    log = tmp_path / "web.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "web", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    body = (Path(__file__).parent / "fixtures/zendesk/ticket_changed__updated.json").read_bytes()
    url = f"http://127.0.0.1:{port}/webhooks/zendesk"

    def accepted() -> list[dict[str, object]]:
        lines = [ln for ln in log.read_text().splitlines() if ln.startswith("{")]
        return [e for e in map(json.loads, lines) if e.get("event") == "webhook.zendesk.accepted"]

    try:
        deadline = time.monotonic() + 40
        while True:
            assert time.monotonic() < deadline, log.read_text()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            mac = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
            headers = {
                "Content-Type": "application/json",
                "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            }
            try:
                answer = requests.post(url, data=body, headers=headers, timeout=5)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
                continue
            assert answer.status_code in (200, 202), answer.text
            break
        while not accepted():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    [line] = accepted()
    assert line["subject"] == "5201" and line["level"] == "info"
    assert secret not in log.read_text()
