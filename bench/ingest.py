"""Webhook ingest throughput: our receiver vs a bare 200, both under gunicorn, same load.

    python bench/ingest.py [--seconds 8] [--clients 16] [--workers 2] [--threads 4]
                           [--database-url URL]

Starts `connector.webhook_app:create_app()` under gunicorn (SQLite in a temp dir unless
--database-url is given), then the same gunicorn serving `bench/bare_wsgi.py`, and drives each
with keep-alive Python client threads sending validly signed Zendesk trigger deliveries, each
with its own invocation id and body (so all are stored, none de-duplicated). The last line is:

    ingest ratio=<ours/bare> ours_rps=<n> bare_rps=<n> p99_ms=<n>
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def line(self) -> str:
        return (
            f"{self.name:5} {self.rps:8.0f} req/s  p50={self.percentile(0.5):6.2f} ms  "
            f"p99={self.percentile(0.99):6.2f} ms  statuses={dict(self.statuses)}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    app: str, port: int, env: dict[str, str], args: argparse.Namespace, cwd: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        app,
    ]
    return subprocess.Popen(command, env=env, cwd=cwd)


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "source": "zendesk-trigger",
            "event": "ticket.changed",
            "ticket_id": str(100_000 + n),
            "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "actor_id": "900000000123",
            "status": "Open",
        }
    ).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4()),
    }
    return body, headers


def load(
    name: str, port: int, path: str, seconds: float, clients: int, counter: itertools.count[int]
) -> Result:
    """Warm up for one second, then measure `seconds` of closed-loop load.

    Each client thread keeps one connection alive. The stdlib client costs about a third of
    `requests` per call; on a small machine the load generator shares the CPUs with the server,
    so a heavier client would hide the difference being measured.
    """
    result = Result(name, seconds)
    lock = threading.Lock()
    start = time.monotonic() + 1.0
    stop = start + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        while True:
            body, headers = delivery(next(counter))
            began = time.monotonic()
            if began >= stop:
                break
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            ended = time.monotonic()
            if began >= start:
                latencies.append(ended - began)
                statuses[status] += 1
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def stored_events(database_url: str) -> int:
    from sqlalchemy import func, select

    from connector.store.db import Database
    from connector.store.models import InboundEvent

    db = Database(database_url)
    try:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(InboundEvent)) or 0)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from connector.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        database_url = args.database_url or f"sqlite:///{work / 'connector.db'}"
        upgrade(database_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        env.update(
            PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "bench")]),
            CONNECTOR_DATABASE_URL=database_url,
            CONNECTOR_QUEUE_PATH=str(work / "queue.db"),
            CONNECTOR_ZENDESK_WEBHOOK_SECRET=SECRET,
        )
        counter = itertools.count()
        results = []
        for name, app, path in (
            ("ours", "connector.webhook_app:create_app()", "/webhooks/zendesk"),
            ("bare", "bare_wsgi:app", "/"),
            ("flask", "bare_flask:app", "/"),
        ):
            port = free_port()
            server = start_gunicorn(app, port, env, args, work)  # cwd: no stray .env or config
            try:
                wait_until_up(port)
                result = load(name, port, path, args.seconds, args.clients, counter)
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(result.line(), flush=True)
            results.append(result)
        ours, bare, flask = results
        accepted = ours.statuses[202]
        stored = stored_events(database_url)
        print(f"ours: {accepted} accepted in the measured window, {stored} events stored in all")
        if any(status != 202 for status in ours.statuses):
            print(f"WARNING: non-202 answers from ours: {dict(ours.statuses)}")
        print(f"against a bare Flask route: ratio={ours.rps / flask.rps:.2f}")
        print(
            f"ingest ratio={ours.rps / bare.rps:.2f} ours_rps={ours.rps:.0f} "
            f"bare_rps={bare.rps:.0f} p99_ms={ours.percentile(0.99):.1f}"
        )


if __name__ == "__main__":
    main()
