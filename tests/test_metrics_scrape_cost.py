"""What a `/metrics` scrape costs: no statement reads every stored event, parallel scrapes share
one reading, processed and ignored events are counted by the worker that finishes them, and the
last delivery of a quiet side is found in bounded steps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ops_fixtures import ops_runtime
from prometheus_client import REGISTRY
from sqlalchemy import event, insert, select, update
from test_metrics import samples, value

from connector.bootstrap import WorkerContext as Runtime
from connector.ops.last_delivery import LastDeliveries
from connector.ops.shared_result import Busy, SharedResult
from connector.store import inbox
from connector.store.models import EventState, InboundEvent
from connector.sync.events import process_pending
from connector.webhook_app import create_app

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(n: int) -> datetime:
    return START + timedelta(seconds=n)


def fill(rt: Runtime, rows: int, *, jira_until: int, pending: int = 0, failed: int = 0) -> None:
    """`rows` events, one a second from START: every fifth from Jira up to id `jira_until`, the
    rest from Zendesk; processed (every 50th ignored) but for the last `pending` (waiting) and
    `failed` events before them."""

    def row(n: int) -> dict[str, Any]:
        state = EventState.PROCESSED if n % 50 else EventState.IGNORED
        if n > rows - pending:
            state = EventState.PENDING
        elif n > rows - pending - failed:
            state = EventState.FAILED
        return {
            "id": n,
            "source": "jira" if n % 5 == 0 and n <= jira_until else "zendesk",
            "delivery_id": f"d{n}",
            "content_hash": None,
            "event_type": "ticket.changed",
            "subject_id": str(n % 997),
            "payload": None,
            "state": state,
            "received_at": at(n),
            "attempts": 0,
        }

    with rt.db.engine.begin() as connection:
        for first in range(1, rows + 1, 5000):
            batch = [row(n) for n in range(first, min(rows, first + 4999) + 1)]
            connection.execute(insert(InboundEvent), batch)


@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = ops_runtime(database_url, str(tmp_path / "queue.db"))
    yield runtime
    runtime.close()


@pytest.fixture
def sqlite_rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = ops_runtime(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "queue.db"))
    yield runtime
    runtime.close()


class Statements:
    """The statements sent to the database that name inbound_events, with their parameters."""

    def __init__(self, rt: Runtime, delay: float = 0.0) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.delay, self.lock = delay, threading.Lock()
        event.listen(rt.db.engine, "before_cursor_execute", self._before)
        self.engine = rt.db.engine

    def _before(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "inbound_events" in statement:
            with self.lock:
                self.seen.append((statement, params))
            time.sleep(self.delay)  # a slow database: parallel scrapes overlap

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def scrape(rt: Runtime) -> dict[Any, float]:
    response = create_app(runtime=rt).test_client().get("/metrics")
    assert response.status_code == 200
    return samples(response.get_data(as_text=True))


def test_a_scrape_searches_indexes_and_never_reads_every_stored_event(sqlite_rt: Runtime) -> None:
    rt = sqlite_rt
    fill(rt, 20_000, jira_until=15_000, pending=3, failed=2)
    statements = Statements(rt)
    try:
        found = scrape(rt)
    finally:
        statements.close()

    assert value(found, "connector_store_up") == 1
    assert value(found, "connector_inbound_events", source="zendesk", state="pending") == 3
    assert value(found, "connector_inbound_events", source="zendesk", state="failed") == 2
    assert value(found, "connector_inbound_events", source="jira", state="pending") == 0
    last = "connector_last_delivery_timestamp_seconds"
    assert value(found, last, source="zendesk") == at(20_000).timestamp()
    assert value(found, last, source="jira") == at(15_000).timestamp()  # quiet since
    # SQLite says SCAN for a statement that reads a whole table or index, SEARCH for one that
    # seeks a key or a range: a scrape only seeks.
    assert statements.seen
    with rt.db.engine.connect() as connection:
        for statement, params in statements.seen:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            steps = [step[-1] for step in plan if "inbound_events" in step[-1]]
            assert steps and all(s.startswith("SEARCH") for s in steps), (statement, steps)


def test_parallel_scrapes_share_one_reading(rt: Runtime) -> None:
    fill(rt, 2_000, jira_until=1_000, pending=5)
    one = Statements(rt)
    try:
        scrape(rt)
    finally:
        one.close()

    statements = Statements(rt, delay=0.05)  # each statement takes a while
    app = create_app(runtime=rt)  # a new web process: nothing read yet
    start = threading.Barrier(8)
    results: list[dict[Any, float]] = []

    def scraper() -> None:
        client = app.test_client()
        start.wait()
        response = client.get("/metrics")
        results.append(samples(response.get_data(as_text=True)))

    threads = [threading.Thread(target=scraper) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        statements.close()

    assert len(results) == 8
    assert {
        value(r, "connector_inbound_events", source="zendesk", state="pending") for r in results
    } == {5}
    assert len(statements.seen) == len(one.seen)  # one reading for the eight scrapes


def test_finished_events_are_counted_by_the_worker_that_finishes_them(rt: Runtime) -> None:
    def counted(source: str, state: str) -> float:
        labels = {"source": source, "state": state}
        found = REGISTRY.get_sample_value("connector_inbound_events_finished_total", labels)
        return found or 0.0

    before = {
        (s, st): counted(s, st) for s in ("zendesk", "jira") for st in ("processed", "ignored")
    }
    fill(rt, 6, jira_until=6, pending=6)  # ids 1-4 and 6 from Zendesk, 5 from Jira

    def handled(_services: object, _events: list[InboundEvent]) -> None:
        pass  # every Zendesk event handled; Jira has no handler here, so its event is ignored

    assert process_pending(rt, {"zendesk": handled}) == 6
    assert counted("zendesk", "processed") - before[("zendesk", "processed")] == 5
    assert counted("jira", "ignored") - before[("jira", "ignored")] == 1
    assert counted("jira", "processed") - before[("jira", "processed")] == 0

    # A worker whose claim was taken over finishes nothing, and counts nothing.
    with rt.db.engine.begin() as connection:
        connection.execute(insert(InboundEvent), [{**_event(7, "zendesk"), "claimed_by": "me"}])
    with rt.db.session() as s:
        stale = s.scalars(select(InboundEvent).where(InboundEvent.id == 7)).one()
    with rt.db.session() as s:
        s.execute(update(InboundEvent).where(InboundEvent.id == 7).values(claimed_by="other"))
    inbox.finish(rt.db, [stale], EventState.PROCESSED)
    assert counted("zendesk", "processed") - before[("zendesk", "processed")] == 5

    found = scrape(rt)  # this process's counters are on /metrics
    assert value(
        found, "connector_inbound_events_finished_total", source="zendesk", state="processed"
    ) == counted("zendesk", "processed")


def _event(n: int, source: str) -> dict[str, Any]:
    return {
        "id": n,
        "source": source,
        "delivery_id": f"d{n}",
        "content_hash": None,
        "event_type": "ticket.changed",
        "subject_id": str(n),
        "payload": {"ticket_id": n},
        "state": EventState.PENDING,
        "received_at": at(n),
        "attempts": 0,
    }


def test_a_quiet_side_is_found_in_bounded_steps_and_new_deliveries_at_once(
    sqlite_rt: Runtime,
) -> None:
    rt = sqlite_rt
    fill(rt, 100, jira_until=30)  # Jira's last delivery is event 30
    walk = LastDeliveries(step=10)
    reads = []
    with rt.db.session() as s:
        for _ in range(12):
            reads.append(walk.read(s))
    assert reads[0] == {"zendesk": at(100)}  # Jira not found yet: left out, not None
    first_with_jira = next(i for i, r in enumerate(reads) if "jira" in r)
    assert first_with_jira == 7  # rows 91-100, 81-90, ... 31-40, then 21-30: 8 steps of 10
    assert reads[-1] == {"zendesk": at(100), "jira": at(30)}

    with rt.db.engine.begin() as connection:
        connection.execute(insert(InboundEvent), [_event(101, "jira")])
    with rt.db.session() as s:
        assert walk.read(s) == {"zendesk": at(100), "jira": at(101)}


def test_a_side_that_never_delivered_reads_none_once_every_row_was_walked(
    sqlite_rt: Runtime,
) -> None:
    rt = sqlite_rt
    walk = LastDeliveries(step=10)
    with rt.db.session() as s:
        assert walk.read(s) == {"zendesk": None, "jira": None}  # nothing stored at all
    fill(rt, 25, jira_until=0)
    with rt.db.session() as s:
        reads = [walk.read(s) for _ in range(4)]
    assert reads[0] == {"zendesk": at(25)}
    assert reads[2] == reads[3] == {"zendesk": at(25), "jira": None}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_result_is_shared_and_the_previous_one_served_while_the_next_is_computed() -> None:
    clock, calls = Clock(), []
    computing, release = threading.Event(), threading.Event()

    def compute() -> int:
        calls.append(clock.now)
        if len(calls) > 1:
            computing.set()
            release.wait(10)
        return len(calls)

    shared = SharedResult(compute, ttl=5, max_age=30, wait=0.2, clock=clock)
    assert [shared.get() for _ in range(3)] == [1, 1, 1]
    clock.now = 6  # past ttl: the next caller computes, the others get the previous result
    second: list[int] = []
    worker = threading.Thread(target=lambda: second.append(shared.get()))
    worker.start()
    assert computing.wait(10)
    assert shared.get() == 1
    clock.now = 40  # past max_age: no usable result, a caller waits (0.2 s) and gives up
    with pytest.raises(Busy):
        shared.get()
    release.set()
    worker.join(10)
    assert second == [2]
    assert shared.get() == 2 and len(calls) == 2
