"""What a `/metrics` scrape costs on a large inbox, before and after, and what eight parallel
scrapes do to a webhook.

    python bench/metrics_scrape.py [--events 500000] [--postgres] [--quiet-jira 0.25]
                                   [--scrapers 8] [--seconds 10] [--workers 2] [--threads 4]

Fills a new database (SQLite in a temp dir; --postgres: a database created on 127.0.0.1:5432
and dropped afterwards) with --events stored events in bulk: one Zendesk delivery in five from
Jira, 2% ignored, one in 40,000 failed, the newest 200 pending, one every 0.6 s back in time;
Jira is quiet for the newest --quiet-jira of them (the walk for its last delivery is then as
long as it gets). Then:

1. the gauges' database work in this process, median of 3: `before` is what every scrape ran
   until now (queue depth, problem, reply and event counts by state, the last delivery per side
   by `max(received_at)`, problems awaiting approval); `after` is one reading of the new
   collector: the first ones (walking back for Jira's last delivery, at most 100,000 ids each)
   and one once both sides are found, with 100 new events since the previous reading;
2. under gunicorn (gthread), for an app serving the old scrape (every scrape runs the `before`
   queries) and for ours: one signed Zendesk webhook every 50 ms, alone and while --scrapers
   clients scrape `/metrics` back to back.

The last line is:

    metrics_scrape events=<n> before_ms=<x> after_ms=<x> webhook_p99_ms_old=<x> _new=<x>
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest import SECRET, delivery, free_port, start_gunicorn, wait_until_up  # noqa: E402

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

_FILL = {
    "postgresql": """
        INSERT INTO inbound_events (source, delivery_id, content_hash, event_type, subject_id,
            payload, state, received_at, processed_at, attempts)
        SELECT CASE WHEN i % 5 = 0 AND i <= :jira_until THEN 'jira' ELSE 'zendesk' END,
            'bench-' || i, NULL, 'ticket.changed', (i % 50000)::text, NULL, {state},
            now() - make_interval(secs => (:n - i) * 0.6),
            now() - make_interval(secs => (:n - i) * 0.6), 0
        FROM generate_series(1, :n) AS i""",
    "sqlite": """
        INSERT INTO inbound_events (source, delivery_id, content_hash, event_type, subject_id,
            payload, state, received_at, processed_at, attempts)
        WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)
        SELECT CASE WHEN i % 5 = 0 AND i <= :jira_until THEN 'jira' ELSE 'zendesk' END,
            'bench-' || i, NULL, 'ticket.changed', CAST(i % 50000 AS TEXT), NULL, {state},
            strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((:n - i) * 0.6) || ' seconds'),
            strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((:n - i) * 0.6) || ' seconds'), 0
        FROM s""",
}
_STATE = """CASE WHEN i > :n - 200 THEN 'pending' WHEN i % 40000 = 7 THEN 'failed'
            WHEN i % 50 = 3 THEN 'ignored' ELSE 'processed' END"""


@contextmanager
def database(postgres: bool, work: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{work / 'connector.db'}"
        return
    import psycopg

    name = f"connector_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(database_url: str, events: int, quiet_jira: float) -> float:
    from sqlalchemy import text

    from connector.store.db import Database
    from connector.store.migrate import upgrade

    upgrade(database_url)
    db = Database(database_url)
    began = time.monotonic()
    sql = _FILL["postgresql" if db.is_postgresql else "sqlite"].format(state=_STATE)
    with db.engine.begin() as connection:
        connection.execute(text(sql), {"n": events, "jira_until": int(events * (1 - quiet_jira))})
    if db.is_postgresql:  # as autovacuum would have by then; SQLite is rarely ANALYZEd
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE inbound_events"))
    db.dispose()
    return time.monotonic() - began


def old_scrape(runtime: Any) -> dict[str, Any]:
    """The database work of every scrape before this change (connector.ops.queries)."""
    from connector.ops import queries
    from connector.queue import queue_depth

    return {
        "queue_depth": queue_depth(runtime.huey),
        "problems": queries.problem_counts(runtime.db),
        "replies": queries.reply_counts(runtime.db),
        "events": queries.event_counts(runtime.db),
        "last": queries.last_deliveries(runtime.db),
        "awaiting": queries.awaiting_approval(runtime),
    }


def timed(work: Callable[[], Any]) -> float:
    began = time.monotonic()
    work()
    return (time.monotonic() - began) * 1000


def in_process(
    database_url: str, work: Path, new_events: Callable[[int], None]
) -> tuple[float, float]:
    from connector.bootstrap import WebContext
    from connector.config import load_config
    from connector.ops.store_gauges import GaugeReader
    from connector.settings import Settings

    settings = Settings(_env_file=None, database_url=database_url, queue_path=str(work / "q.db"))  # type: ignore[call-arg]
    runtime = WebContext(settings, load_config())
    before = statistics.median(timed(lambda: old_scrape(runtime)) for _ in range(3))
    print(f"before: the old scrape's queries {before:8.1f} ms (median of 3)", flush=True)
    reader = GaugeReader(runtime)
    walking = []
    while True:
        began = time.monotonic()
        reading = reader.read()
        walking.append((time.monotonic() - began) * 1000)
        assert reading.store is not None, "the database did not answer"
        if reading.store.last_delivery.get("jira") is not None or len(walking) > 100:
            break
    print(
        f"after:  first readings {len(walking)} (walking back to Jira's last delivery): "
        f"first {walking[0]:.1f} ms, slowest {max(walking):.1f} ms",
        flush=True,
    )
    steady = []
    for _ in range(3):
        new_events(100)
        steady.append(timed(reader.read))
    after = statistics.median(steady)
    print(f"after:  a reading with 100 new events since the last {after:8.1f} ms (median of 3)")
    runtime.close()
    return before, after


def legacy_app() -> Any:
    """The web tier with the old `/metrics`: every scrape runs the old queries (bench only)."""
    from flask import Response

    from connector.webhook_app import create_app

    app = create_app()
    runtime = app.config["RUNTIME"]

    def metrics() -> Response:
        return Response(repr(old_scrape(runtime)), content_type="text/plain")

    app.view_functions["metrics"] = metrics
    return app


class Load:
    def __init__(self, port: int) -> None:
        self.port, self.stop = port, threading.Event()
        self.webhooks: list[float] = []
        self.scrapes: list[float] = []
        self.statuses: dict[int, int] = {}

    def _request(self, connection: http.client.HTTPConnection, *request: Any) -> int:
        connection.request(*request)
        response = connection.getresponse()
        response.read()
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return response.status

    def scraper(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            began = time.monotonic()
            self._request(connection, "GET", "/metrics")
            self.scrapes.append(time.monotonic() - began)

    def webhook_sender(self, seconds: float, numbers: itertools.count[int]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body, headers = delivery(next(numbers))
            began = time.monotonic()
            self._request(connection, "POST", "/webhooks/zendesk", body, headers)
            self.webhooks.append(time.monotonic() - began)
            time.sleep(0.05)


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def under_gunicorn(
    name: str, app: str, env: dict[str, str], args: argparse.Namespace, work: Path
) -> float:
    port = free_port()
    server = start_gunicorn(app, port, env, args, work)
    numbers = itertools.count(int(time.time() * 1000))
    p99 = 0.0
    try:
        wait_until_up(port)
        for scrapers in (0, args.scrapers):
            load = Load(port)
            threads = [threading.Thread(target=load.scraper) for _ in range(scrapers)]
            for thread in threads:
                thread.start()
            time.sleep(1.0 if scrapers else 0)  # the scrapes are under way
            load.webhook_sender(args.seconds, numbers)
            load.stop.set()
            for thread in threads:
                thread.join()
            p99 = ms(load.webhooks, 0.99)
            print(
                f"{name}: webhook with {scrapers} scrapers: p50={ms(load.webhooks, 0.5):7.1f} ms "
                f"p99={p99:7.1f} ms max={ms(load.webhooks, 1.0):7.1f} ms; "
                f"{len(load.scrapes) / (args.seconds + 1):6.1f} scrapes/s, "
                f"scrape p50={ms(load.scrapes, 0.5):7.1f} ms; statuses={load.statuses}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--quiet-jira", type=float, default=0.25)
    parser.add_argument("--scrapers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="metrics-bench-") as tmp:
        work = Path(tmp)
        with database(args.postgres, work) as database_url:
            seconds = fill(database_url, args.events, args.quiet_jira)
            kind = "PostgreSQL" if args.postgres else "SQLite"
            print(f"filled {args.events} events into {kind} in {seconds:.1f} s", flush=True)
            extra = itertools.count()

            def new_events(n: int) -> None:
                from sqlalchemy import insert

                from connector.store.db import Database
                from connector.store.models import InboundEvent

                db = Database(database_url)
                rows = [
                    {"source": "zendesk", "delivery_id": f"new-{next(extra)}", "event_type": "x"}
                    for _ in range(n)
                ]
                with db.engine.begin() as connection:
                    connection.execute(insert(InboundEvent), rows)
                db.dispose()

            before, after = in_process(database_url, work, new_events)
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
            env.update(
                PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "bench")]),
                CONNECTOR_DATABASE_URL=database_url,
                CONNECTOR_QUEUE_PATH=str(work / "queue.db"),
                CONNECTOR_ZENDESK_WEBHOOK_SECRET=SECRET,
            )
            old = under_gunicorn("old", "metrics_scrape:legacy_app()", env, args, work)
            new = under_gunicorn("new", "connector.webhook_app:create_app()", env, args, work)
    print(
        f"metrics_scrape events={args.events} before_ms={before:.1f} after_ms={after:.1f} "
        f"webhook_p99_ms_old={old:.1f} _new={new:.1f}"
    )


if __name__ == "__main__":
    main()
