"""Processing stored events: a batch is handled whole, and when that fails, subject by subject,
so one bad ticket fails only its own events; failed events can be put back in the queue
(`connector events retry` and `POST /api/events/retry`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connector.bootstrap import WorkerContext
from connector.cli import cli
from connector.errors import PermanentError, TransientError
from connector.store.models import EventState, InboundEvent
from connector.sync.events import process_pending


def add_events(rt: WorkerContext, *tickets: int) -> list[int]:
    with rt.db.session() as s:
        rows = [
            InboundEvent(
                source="zendesk",
                delivery_id=uuid.uuid4().hex,
                content_hash=uuid.uuid4().hex,
                event_type="zen:event-type:ticket.status_changed",
                subject_id=str(ticket),
                payload={"ticket_id": ticket},
            )
            for ticket in tickets
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def states(rt: WorkerContext) -> dict[str, tuple[EventState, int]]:
    with rt.db.session() as s:
        return {
            e.subject_id or "": (e.state, e.attempts)
            for e in s.scalars(select(InboundEvent).order_by(InboundEvent.id))
        }


class FakeZendeskHandler:
    """Handles a batch of ticket events; tickets in `bad` raise `error` (in any batch)."""

    def __init__(self, bad: set[int], error: Exception) -> None:
        self.bad, self.error = bad, error
        self.handled: list[int] = []
        self.batches: list[list[int]] = []

    def __call__(self, _services: object, batch: list[InboundEvent]) -> None:
        tickets = [int((e.payload or {})["ticket_id"]) for e in batch]
        self.batches.append(tickets)
        if self.bad & set(tickets):
            raise self.error
        self.handled += tickets


def test_one_bad_ticket_in_a_batch_fails_only_its_own_events(runtime: WorkerContext) -> None:
    add_events(runtime, 1, 2, 3, 2)
    handler = FakeZendeskHandler({2}, PermanentError("zendesk: 422 on ticket 2"))
    with pytest.raises(PermanentError):  # the task is retried by the queue for ticket 2
        process_pending(runtime, {"zendesk": handler})
    assert handler.batches[0] == [1, 2, 3, 2]  # the whole batch first (one read per 100)
    assert sorted(handler.handled) == [1, 3]
    assert states(runtime) == {
        "1": (EventState.PROCESSED, 0),
        "2": (EventState.PENDING, 1),
        "3": (EventState.PROCESSED, 0),
    }
    with runtime.db.session() as s:
        errors = [e.error for e in s.scalars(select(InboundEvent)) if e.error]
    assert errors == ["PermanentError: zendesk: 422 on ticket 2"] * 2


def test_a_bad_ticket_alone_runs_out_of_attempts_and_waits_for_a_retry(
    runtime: WorkerContext,
) -> None:
    runtime.settings.event_max_attempts = 2
    [bad] = add_events(runtime, 7)
    handler = FakeZendeskHandler({7}, PermanentError("no"))
    for _ in range(2):
        with pytest.raises(PermanentError):
            process_pending(runtime, {"zendesk": handler})
    assert states(runtime) == {"7": (EventState.FAILED, 2)}
    assert process_pending(runtime, {"zendesk": handler}) == 0  # failed events are not taken

    handler.bad.clear()  # the cause is fixed
    from connector.ops.events import retry_failed_events

    assert retry_failed_events(runtime, [bad]) == [bad]
    assert states(runtime) == {"7": (EventState.PENDING, 0)}
    assert process_pending(runtime, {"zendesk": handler}) == 1
    assert states(runtime) == {"7": (EventState.PROCESSED, 0)}


def test_when_asked_to_slow_down_the_events_are_given_back_without_an_attempt(
    runtime: WorkerContext,
) -> None:
    add_events(runtime, 1, 2, 3)
    handler = FakeZendeskHandler({1}, TransientError("zendesk: 429", retry_after=30))
    with pytest.raises(TransientError):
        process_pending(runtime, {"zendesk": handler})
    assert handler.batches == [[1, 2, 3]]  # not retried ticket by ticket against a 429
    assert states(runtime) == {
        "1": (EventState.PENDING, 0),
        "2": (EventState.PENDING, 0),
        "3": (EventState.PENDING, 0),
    }
    with runtime.db.session() as s:
        assert all(e.claimed_by is None for e in s.scalars(select(InboundEvent)))
    handler.bad.clear()
    assert process_pending(runtime, {"zendesk": handler}) == 3
    assert {state for state, _ in states(runtime).values()} == {EventState.PROCESSED}


@pytest.fixture
def cli_env(runtime: WorkerContext, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {
        "CONNECTOR_DATABASE_URL": runtime.settings.database_url,
        "CONNECTOR_QUEUE_PATH": runtime.settings.queue_path,
        "CONNECTOR_QUEUE_NAME": f"events-{uuid.uuid4().hex[:8]}",
    }


def fail(rt: WorkerContext, ids: list[int]) -> None:
    with rt.db.session() as s:
        for event in s.scalars(select(InboundEvent).where(InboundEvent.id.in_(ids))):
            event.state, event.attempts, event.error = EventState.FAILED, 8, "boom"


def test_cli_puts_failed_events_back(runtime: WorkerContext, cli_env: dict[str, str]) -> None:
    ids = add_events(runtime, 1, 2, 3)
    fail(runtime, ids[:2])
    runner = CliRunner()
    one = runner.invoke(cli, ["events", "retry", str(ids[0]), str(ids[2])], env=cli_env)
    assert one.exit_code == 0, one.output
    assert f"1 failed event(s) back in the queue: {ids[0]}" in one.output
    assert f"not failed (left as they are): {ids[2]}" in one.output
    assert states(runtime)["1"] == (EventState.PENDING, 0)
    assert states(runtime)["2"] == (EventState.FAILED, 8)
    every = runner.invoke(cli, ["events", "retry", "--all"], env=cli_env)
    assert every.exit_code == 0 and f"back in the queue: {ids[1]}" in every.output
    assert {state for state, _ in states(runtime).values()} == {EventState.PENDING}
    none = runner.invoke(cli, ["events", "retry", "--all"], env=cli_env)
    assert none.exit_code == 0 and "no failed event to retry" in none.output
    for args in (["events", "retry"], ["events", "retry", "--all", "1"]):
        wrong = runner.invoke(cli, args, env=cli_env)
        assert wrong.exit_code == 2 and "name the event ids to retry, or --all" in wrong.output


def test_an_outage_stops_the_ticket_by_ticket_pass_after_two_failures(
    runtime: WorkerContext,
) -> None:
    add_events(runtime, 1, 2, 3, 4, 5)
    handler = FakeZendeskHandler({1, 2, 3, 4, 5}, TransientError("zendesk: HTTP 503"))
    with pytest.raises(TransientError):
        process_pending(runtime, {"zendesk": handler})
    assert handler.batches == [[1, 2, 3, 4, 5], [1], [2]]  # then it stops hammering
    assert states(runtime) == {
        "1": (EventState.PENDING, 1),
        "2": (EventState.PENDING, 1),
        "3": (EventState.PENDING, 0),
        "4": (EventState.PENDING, 0),
        "5": (EventState.PENDING, 0),
    }
    with runtime.db.session() as s:
        assert all(e.claimed_by is None for e in s.scalars(select(InboundEvent)))


def test_bookkeeping_touches_only_events_the_claim_still_holds(runtime: WorkerContext) -> None:
    from datetime import timedelta

    from connector.store import inbox

    add_events(runtime, 1)
    [mine] = inbox.claim(runtime.db, 10, timedelta(minutes=5))
    # The claim expired and another worker took the event over (a negative timeout: at once).
    [theirs] = inbox.claim(runtime.db, 10, timedelta(seconds=-1))
    assert theirs.claimed_by != mine.claimed_by
    inbox.finish(runtime.db, [mine], EventState.PROCESSED)
    inbox.record_failure(runtime.db, [mine], "late", max_attempts=1)
    inbox.release(runtime.db, [mine])
    with runtime.db.session() as s:
        event = s.scalars(select(InboundEvent)).one()
        assert (event.state, event.attempts, event.claimed_by) == (
            EventState.PENDING,
            0,
            theirs.claimed_by,
        )


def test_finished_events_past_retention_are_deleted_and_the_rest_kept(
    runtime: WorkerContext,
) -> None:
    from datetime import UTC, datetime, timedelta

    from connector.store import inbox

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ids = add_events(runtime, 1, 2, 3, 4, 5, 6)
    ages = {  # event -> (state, finished this long ago)
        ids[0]: (EventState.PROCESSED, timedelta(days=20)),
        ids[1]: (EventState.IGNORED, timedelta(days=15)),
        ids[2]: (EventState.PROCESSED, timedelta(days=2)),
        ids[3]: (EventState.FAILED, timedelta(days=30)),
        ids[4]: (EventState.PENDING, None),
        ids[5]: (EventState.PROCESSED, timedelta(days=40)),
    }
    with runtime.db.session() as s:
        for event in s.scalars(select(InboundEvent)):
            state, age = ages[event.id]
            event.state, event.processed_at = state, (now - age) if age else None
    cutoff = now - timedelta(days=runtime.settings.event_retention_days)
    assert inbox.delete_finished_before(runtime.db, cutoff, batch=2) == 3
    with runtime.db.session() as s:
        kept = sorted(e.id for e in s.scalars(select(InboundEvent)))
    assert kept == [ids[2], ids[3], ids[4]]
    assert inbox.delete_finished_before(runtime.db, cutoff) == 0
