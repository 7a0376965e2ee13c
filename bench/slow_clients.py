"""Slow clients against `connector web`: does /healthz still answer while N clients hold
connections open mid-request?

    python bench/slow_clients.py [--clients 12] [--mode body|drip|headers] [--hold 20]
                                 [--workers 2] [--env NAME=VALUE ...]

Starts the real `connector web` (gunicorn, SQLite in a temp dir) on a free port, opens --clients
connections that each send a webhook's headers announcing a 100 KB body and then:

- body:    the body's first byte (`{`) and nothing more (the issue's case);
- drip:    one byte of the body a second (a client that is never idle for long);
- headers: only part of the headers, one header line a second.

Meanwhile a probe GETs /healthz once a second with a 30 s timeout, and after --hold seconds one
signed webhook is posted. Run it from a checkout (PYTHONPATH decides which code is measured, so
`PYTHONPATH=/path/to/other/checkout` compares two versions). The last line is:

    slow_clients mode=<m> clients=<n> healthz_ok=<ok>/<probes> healthz_p50_ms=<x>
        healthz_max_ms=<x> webhook=<status> slow_closed=<n> slow_closed_after_s=<max>
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-slow-clients-secret"
BODY_BYTES = 100_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, timeout: float) -> tuple[int | None, float]:
    began = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
    except OSError:
        status = None
    return status, time.monotonic() - began


def signed_webhook(port: int) -> int | None:
    body = (REPO / "tests/fixtures/zendesk/ticket_changed__updated.json").read_bytes()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/webhooks/zendesk", body=body, headers=headers)
        return connection.getresponse().status
    except OSError:
        return None


class SlowClient(threading.Thread):
    """One connection that sends a request slowly and notes when the server gives up on it."""

    def __init__(self, port: int, mode: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.mode, self.stop = port, mode, stop
        self.opened = time.monotonic()
        self.closed_after: float | None = None
        self.answer = b""

    def run(self) -> None:
        head = [
            b"POST /webhooks/zendesk HTTP/1.1\r\n",
            b"Host: 127.0.0.1\r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Length: %d\r\n" % BODY_BYTES,
            b"X-Filler: %s\r\n" % (b"x" * 20),
            b"\r\n",
        ]
        sock = socket.create_connection(("127.0.0.1", self.port))
        self.opened = time.monotonic()
        sock.settimeout(1.0)
        try:
            if self.mode == "headers":
                pieces = head[:-1]
            else:
                sock.sendall(b"".join(head) + b"{")
                pieces = [b" "] * (BODY_BYTES - 1) if self.mode == "drip" else []
            while not self.stop.is_set():
                if pieces:
                    sock.sendall(pieces.pop(0))
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    continue
                self.answer += data
                if not data or self.answer.endswith(b"}\n") or b"\r\n\r\n" in self.answer:
                    self.closed_after = time.monotonic() - self.opened
                    return
        except OSError:
            self.closed_after = time.monotonic() - self.opened
        finally:
            sock.close()


def start_web(port: int, workers: int, work: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(
        PYTHONPATH=os.environ.get("PYTHONPATH", str(REPO)),
        CONNECTOR_ZENDESK_WEBHOOK_SECRET=SECRET,
    )
    env.update(item.split("=", 1) for item in extra)  # type: ignore[misc]
    command = [sys.executable, "-m", "connector", "web", "--port", str(port)]
    log = (work / "web.log").open("w")
    proc = subprocess.Popen(
        [*command, "--workers", str(workers)], cwd=work, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 60
    while get(port, "/healthz", 2)[0] != 200:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"connector web did not start:\n{(work / 'web.log').read_text()}")
        time.sleep(0.2)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--mode", choices=["body", "drip", "headers"], default="body")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds of probing")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        port = free_port()
        server = start_web(port, args.workers, Path(tmp), args.env)
        stop = threading.Event()
        clients = [SlowClient(port, args.mode, stop) for _ in range(args.clients)]
        try:
            for client in clients:
                client.start()
            time.sleep(0.5)  # let every slow client reach the server before probing
            probes: list[tuple[int | None, float]] = []
            end = time.monotonic() + args.hold
            while time.monotonic() < end:
                probes.append(get(port, "/healthz", 30))
                print(f"  healthz {probes[-1][0]} in {probes[-1][1] * 1000:.0f} ms", flush=True)
                time.sleep(max(0.0, 1.0 - probes[-1][1]))
            webhook = signed_webhook(port)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=30)
    ok = sorted(t for status, t in probes if status == 200)
    closed = [c.closed_after for c in clients if c.closed_after is not None]
    p50 = ok[len(ok) // 2] * 1000 if ok else float("nan")
    worst = max(t for _, t in probes) * 1000
    answers = {c.answer.split(b"\r\n", 1)[0].decode(errors="replace") for c in clients}
    print(f"slow clients' answers: {sorted(answers)}")
    print(
        f"slow_clients mode={args.mode} clients={args.clients} healthz_ok={len(ok)}/{len(probes)} "
        f"healthz_p50_ms={p50:.0f} healthz_max_ms={worst:.0f} webhook={webhook} "
        f"slow_closed={len(closed)} slow_closed_after_s={max(closed, default=float('nan')):.1f}"
    )


if __name__ == "__main__":
    main()
