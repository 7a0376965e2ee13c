"""`store_event`: what counts as a duplicate, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from connector.bootstrap import WorkerContext as Runtime
from connector.store.events_repo import store_event
from connector.store.models import EventState, InboundEvent

PAYLOAD = {"ticket_id": 1, "kind": "trigger"}


def store(runtime: Runtime, delivery: str, content: str, **changes: Any) -> int | None:
    args: dict[str, Any] = {
        "source": "zendesk",
        "delivery_id": delivery,
        "content_hash": content,
        "event_type": "ticket.changed",
        "subject_id": "1",
        "payload": PAYLOAD,
        **changes,
    }
    return store_event(runtime.db, **args)


def rows(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    with runtime.db.session() as session:
        events = session.scalars(select(InboundEvent).order_by(InboundEvent.id))
        return [(e.source, e.delivery_id, e.content_hash) for e in events]


def test_same_delivery_id_or_same_content_is_a_duplicate_per_source(runtime: Runtime) -> None:
    first = store(runtime, "d1", "h1")
    assert isinstance(first, int)
    assert store(runtime, "d1", "h2") is None
    assert store(runtime, "d2", "h1") is None
    assert isinstance(store(runtime, "d1", "h1", source="jira"), int)  # another source
    assert rows(runtime) == [("zendesk", "d1", "h1"), ("jira", "d1", "h1")]


def test_same_content_after_the_first_was_processed_is_a_new_event(runtime: Runtime) -> None:
    first = store(runtime, "d1", "h1")
    with runtime.db.session() as session:  # what the worker does once it has processed it
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id == first)
            .values(state=EventState.PROCESSED, content_hash=None)
        )
    assert store(runtime, "d1", "h1") is None  # the same delivery id stays a duplicate
    second = store(runtime, "d2", "h1")
    assert isinstance(second, int) and second != first


def test_a_violation_that_is_not_a_duplicate_is_raised_not_swallowed(runtime: Runtime) -> None:
    with pytest.raises(IntegrityError):
        store(runtime, "d1", "h1", event_type=None)
    assert rows(runtime) == []


def _store_many(url: str, prefix: str, count: int) -> None:
    from connector.store.db import Database

    db = Database(url)  # a fresh engine: connections never cross a fork
    for n in range(count):
        assert store_event(db, "zendesk", f"{prefix}{n}", f"{prefix}h{n}", "t", "1", {}) is not None
    db.dispose()


def test_forked_processes_take_turns_writing_to_sqlite(runtime: Runtime) -> None:
    if runtime.db.is_postgresql:
        pytest.skip("SQLite writers take turns; PostgreSQL has row locks")
    url = runtime.settings.database_url
    store(runtime, "parent", "parent")  # the parent's lock file handle must not be shared
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_store_many, args=(url, p, 40)) for p in "ab"]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    assert [child.exitcode for child in children] == [0, 0]
    assert len(rows(runtime)) == 81
    assert Path(f"{runtime.db.engine.url.database}.write-lock").exists()
