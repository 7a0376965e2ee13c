"""Processing stored events: a batch is handled whole, and when that fails, subject by subject,
so one bad ticket fails only its own events. A failed event waits for its next attempt (backoff,
or the Retry-After) and is retried up to the retry horizon; only then, or after an error
retrying cannot cure, is it parked, and an admin puts it back (`connector events retry` and
`POST /api/events/retry`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connector.bootstrap import WorkerContext
from connector.cli import cli
from connector.errors import PermanentError, TransientError
from connector.retry import RetryPlan
from connector.store import inbox
from connector.store.models import EventState, InboundEvent
from connector.sync.events import process_pending
from tests.fake_clock import FakeClock

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(runtime: WorkerContext) -> FakeClock:
    runtime.clock = FakeClock(T0)
    return runtime.clock


def retry_times(rt: WorkerContext) -> dict[str, datetime | None]:
    with rt.db.session() as s:
        return {e.subject_id or "": e.next_attempt_at for e in s.scalars(select(InboundEvent))}


def planned_runs(rt: WorkerContext) -> list[datetime]:
    """When the queue will run `process_events` again (tasks with an eta, enqueued or already
    moved to the schedule by a consumer)."""
    tasks = [*rt.huey.pending(), *rt.huey.scheduled()]
    return sorted(t.eta.replace(tzinfo=UTC) for t in tasks if t.name == "process_events" and t.eta)


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


def test_one_bad_ticket_in_a_batch_fails_only_its_own_events(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    add_events(runtime, 1, 2, 3, 2)
    handler = FakeZendeskHandler({2}, PermanentError("zendesk: 422 on ticket 2"))
    assert process_pending(runtime, {"zendesk": handler}) == 4
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
    # Ticket 2 waits for its next attempt, and the queue is asked to come back then.
    retry_at = retry_times(runtime)["2"]
    assert retry_at is not None and T0 < retry_at <= T0 + timedelta(seconds=5)
    assert planned_runs(runtime) and planned_runs(runtime)[0] >= retry_at
    assert process_pending(runtime, {"zendesk": handler}) == 0  # not due yet: not taken


def test_a_refused_ticket_is_parked_after_its_attempts_and_an_admin_puts_it_back(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    runtime.settings.event_max_attempts = 2
    [bad] = add_events(runtime, 7)
    handler = FakeZendeskHandler({7}, PermanentError("no"))
    for _ in range(2):
        assert process_pending(runtime, {"zendesk": handler}) == 1
        clock.advance(timedelta(minutes=2))  # past the next attempt
    assert states(runtime) == {"7": (EventState.FAILED, 2)}
    assert process_pending(runtime, {"zendesk": handler}) == 0  # parked events are not taken

    handler.bad.clear()  # the cause is fixed
    from connector.ops.events import retry_failed_events

    assert retry_failed_events(runtime, [bad]) == [bad]
    assert retry_failed_events(runtime, [bad]) == []  # put back once
    assert states(runtime) == {"7": (EventState.PENDING, 0)}
    assert retry_times(runtime) == {"7": None}
    assert process_pending(runtime, {"zendesk": handler}) == 1
    assert states(runtime) == {"7": (EventState.PROCESSED, 0)}


def test_an_outage_is_retried_with_capped_backoff_until_the_horizon_then_parked(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    settings = runtime.settings
    settings.retry_later_base_seconds, settings.retry_later_max_seconds = 5, 60
    settings.retry_horizon_seconds = 3600
    add_events(runtime, 1)
    handler = FakeZendeskHandler({1}, TransientError("zendesk: HTTP 500"))
    waits = []
    for _ in range(30):  # far more than CONNECTOR_EVENT_MAX_ATTEMPTS (8): an outage is not
        assert process_pending(runtime, {"zendesk": handler}) == 1  # the event's fault
        retry_at = retry_times(runtime)["1"]
        assert retry_at is not None
        waits.append((retry_at - clock.now()).total_seconds())
        clock.advance(retry_at - clock.now())
    assert states(runtime) == {"1": (EventState.PENDING, 30)}
    assert 2.5 <= waits[0] <= 5 and 5 <= waits[1] <= 10  # exponential, with jitter
    assert max(waits) <= 60 and min(waits[5:]) >= 30  # capped: a recovery is noticed promptly
    clock.advance(timedelta(hours=1))  # failing longer than the horizon: parked at the next
    assert process_pending(runtime, {"zendesk": handler}) == 1
    assert states(runtime) == {"1": (EventState.FAILED, 31)}


def test_when_asked_to_slow_down_the_whole_batch_waits_for_the_retry_after(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    add_events(runtime, 1, 2, 3)
    handler = FakeZendeskHandler({1}, TransientError("zendesk: 429", retry_after=90))
    assert process_pending(runtime, {"zendesk": handler}) == 3
    assert handler.batches == [[1, 2, 3]]  # not retried ticket by ticket against a 429
    assert {state for state, _ in states(runtime).values()} == {EventState.PENDING}
    assert all(at and at >= T0 + timedelta(seconds=90) for at in retry_times(runtime).values())
    with runtime.db.session() as s:
        assert all(e.claimed_by is None for e in s.scalars(select(InboundEvent)))
    handler.bad.clear()
    clock.advance(timedelta(seconds=60))
    assert process_pending(runtime, {"zendesk": handler}) == 0  # Retry-After honoured
    clock.advance(timedelta(seconds=31))
    assert process_pending(runtime, {"zendesk": handler}) == 3
    assert {state for state, _ in states(runtime).values()} == {EventState.PROCESSED}


def test_a_run_plans_one_retry_run_however_many_runs_ask(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    add_events(runtime, 1)
    handler = FakeZendeskHandler({1}, TransientError("zendesk: HTTP 500"))
    process_pending(runtime, {"zendesk": handler})
    for _ in range(5):  # webhooks for other tickets keep triggering runs
        add_events(runtime, 2)
        process_pending(runtime, {"zendesk": handler})
    assert len(planned_runs(runtime)) == 1


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
    runtime: WorkerContext, clock: FakeClock
) -> None:
    add_events(runtime, 1, 2, 3, 4, 5)
    handler = FakeZendeskHandler({1, 2, 3, 4, 5}, TransientError("zendesk: HTTP 503"))
    process_pending(runtime, {"zendesk": handler})
    assert handler.batches == [[1, 2, 3, 4, 5], [1], [2]]  # then it stops hammering
    assert states(runtime) == {
        "1": (EventState.PENDING, 1),
        "2": (EventState.PENDING, 1),
        "3": (EventState.PENDING, 0),
        "4": (EventState.PENDING, 0),
        "5": (EventState.PENDING, 0),
    }
    # The untried ones wait as long as the last failure, without an attempt counted.
    waits = retry_times(runtime)
    assert all(at is not None and at > T0 for at in waits.values())
    assert waits["3"] == waits["4"] == waits["5"] == waits["2"]
    with runtime.db.session() as s:
        assert all(e.claimed_by is None for e in s.scalars(select(InboundEvent)))


def test_bookkeeping_touches_only_events_the_claim_still_holds(runtime: WorkerContext) -> None:
    add_events(runtime, 1)
    [mine] = inbox.claim(runtime.db, 10, timedelta(minutes=5), T0)
    # The claim expired and another worker took the event over (a negative timeout: at once).
    [theirs] = inbox.claim(runtime.db, 10, timedelta(seconds=-1), T0)
    assert theirs.claimed_by != mine.claimed_by
    inbox.finish(runtime.db, [mine], EventState.PROCESSED)
    late = RetryPlan(
        now=T0,
        retry_at=T0 + timedelta(hours=1),
        park_failing_since=T0,
        park_after_attempts=1,
    )
    inbox.record_failure(runtime.db, [mine], "late", late)
    inbox.release(runtime.db, [mine], T0 + timedelta(hours=1))
    with runtime.db.session() as s:
        event = s.scalars(select(InboundEvent)).one()
        assert (event.state, event.attempts, event.claimed_by, event.next_attempt_at) == (
            EventState.PENDING,
            0,
            theirs.claimed_by,
            None,
        )


def test_finished_events_past_retention_are_deleted_and_the_rest_kept(
    runtime: WorkerContext,
) -> None:
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


def test_credentials_refused_wait_like_an_outage_instead_of_parking(
    runtime: WorkerContext, clock: FakeClock
) -> None:
    from connector.errors import AuthError

    runtime.settings.event_max_attempts = 2
    add_events(runtime, 1)
    handler = FakeZendeskHandler({1}, AuthError("zendesk: 401 Couldn't authenticate you"))
    for _ in range(5):  # a revoked token: more than the attempts a refusal gets
        process_pending(runtime, {"zendesk": handler})
        clock.advance(timedelta(minutes=2))
    assert states(runtime) == {"1": (EventState.PENDING, 5)}
    handler.bad.clear()  # the admin set a valid token
    assert process_pending(runtime, {"zendesk": handler}) == 1
    assert states(runtime) == {"1": (EventState.PROCESSED, 5)}
