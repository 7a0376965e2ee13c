"""The real `connector web` (gunicorn) as a subprocess on a free port, for tests that need its
server behaviour: slow clients, stalled databases, recovery without a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class WebProcess:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def connector_web(workdir: Path, workers: int = 2, **settings: str) -> Iterator[WebProcess]:
    """`connector web` started in `workdir` with CONNECTOR_<NAME> settings, up when yielded."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update({f"CONNECTOR_{name.upper()}": value for name, value in settings.items()})
    log = workdir / "web.log"
    command = [sys.executable, "-m", "connector", "web", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=workdir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    web = WebProcess(port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if requests.get(f"{web.url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield web
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
