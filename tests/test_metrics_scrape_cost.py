"""What a `/metrics` scrape costs: processed and ignored events are counted by the worker that
finishes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ops_fixtures import ops_runtime
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, update
from test_metrics import samples, value

from connector.bootstrap import WorkerContext as Runtime
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


def scrape(rt: Runtime) -> dict[Any, float]:
    response = create_app(runtime=rt).test_client().get("/metrics")
    assert response.status_code == 200
    return samples(response.get_data(as_text=True))


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
