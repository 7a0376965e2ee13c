"""The replies' store repositories on SQLite and PostgreSQL: every claim is the one lease, with
the rows, order, timeout and meaning of "free" the fan-out, follow-ups and summary rely on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from connector.bootstrap import WorkerContext as Runtime
from connector.retry import RetryPlan
from connector.store import reply_followups, reply_rows, reply_runs
from connector.store.models import Link, LinkVia, Problem, Reply, ReplyState
from connector.store.reply_rows import Guard

# A negative timeout: every existing claim counts as expired, with no wait for the clock.
HOUR, EXPIRED = timedelta(hours=1), timedelta(seconds=-1)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the fan-out's clock (waits are against it)


@dataclass(frozen=True)
class RunKey:
    problem_id: int
    outcome: str = "fixed"
    problem_ticket_id: int | None = None


def setup_run(runtime: Runtime, tickets: list[int], problem_ticket: int | None = None) -> RunKey:
    with runtime.db.session() as s:
        problem = Problem(cause_key="c", team="billing", summary="Double charge")
        s.add(problem)
        s.flush()
        s.add_all(Link(ticket_id=t, problem_id=problem.id, via=LinkVia.RULE) for t in tickets)
        pid = problem.id
    run = RunKey(pid, problem_ticket_id=problem_ticket)
    reply_runs.plan_rows(runtime.db, run)
    reply_runs.plan_rows(runtime.db, run)  # planning twice adds nothing
    assert sorted(states(runtime, run)) == sorted(tickets)
    return run


def states(runtime: Runtime, run: RunKey) -> dict[int, tuple[ReplyState, int]]:
    with runtime.db.session() as s:
        rows = s.execute(
            select(Reply.ticket_id, Reply.state, Reply.attempts).where(
                Reply.problem_id == run.problem_id
            )
        ).all()
    return {t: (ReplyState(st), a) for t, st, a in rows}


def test_pending_rows_are_claimed_in_ticket_order_problem_ticket_last(runtime: Runtime) -> None:
    run = setup_run(runtime, [5, 1, 4, 2, 3], problem_ticket=1)
    first = reply_rows.claim_pending(runtime.db, run, limit=2, timeout=HOUR, now=NOW)
    second = reply_rows.claim_pending(runtime.db, run, limit=2, timeout=HOUR, now=NOW)
    assert first is not None and sorted(first.ticket_ids) == [2, 3]
    assert second is not None and sorted(second.ticket_ids) == [4, 5]
    # The problem ticket waits while its incidents are open (pending or claimed).
    assert reply_rows.claim_pending(runtime.db, run, limit=2, timeout=HOUR, now=NOW) is None
    reply_rows.set_state(runtime.db, Guard.claimed(first.token), [2, 3], ReplyState.SENT)
    reply_rows.set_state(runtime.db, Guard.claimed(second.token), [4, 5], ReplyState.SENT)
    last = reply_rows.claim_pending(runtime.db, run, limit=2, timeout=HOUR, now=NOW)
    assert last is not None and last.ticket_ids == [1]
    assert states(runtime, run)[1] == (ReplyState.CLAIMED, 1)  # the attempt is counted


def test_a_refused_claim_goes_back_without_counting_the_attempt(runtime: Runtime) -> None:
    run = setup_run(runtime, [1, 2])
    claim = reply_rows.claim_pending(runtime.db, run, limit=100, timeout=HOUR, now=NOW)
    assert claim is not None
    reply_rows.release_claim(runtime.db, claim)
    assert states(runtime, run) == {1: (ReplyState.PENDING, 0), 2: (ReplyState.PENDING, 0)}
    again = reply_rows.claim_pending(runtime.db, run, limit=100, timeout=HOUR, now=NOW)
    assert again is not None and sorted(again.ticket_ids) == [1, 2]


def test_only_expired_claims_without_a_job_are_taken_over(runtime: Runtime) -> None:
    run = setup_run(runtime, [1, 2, 3])
    with_job = reply_rows.claim_pending(runtime.db, run, limit=1, timeout=HOUR, now=NOW)
    unknown = reply_rows.claim_pending(runtime.db, run, limit=2, timeout=HOUR, now=NOW)
    assert with_job is not None and unknown is not None
    assert reply_rows.record_job(runtime.db, with_job, "job-1") == 1
    # Not yet stale: nobody takes them.
    assert reply_rows.claim_stale_unknown(runtime.db, run, limit=100, timeout=HOUR) is None
    stale = reply_rows.claim_stale_unknown(runtime.db, run, limit=100, timeout=EXPIRED)
    assert stale is not None and sorted(stale.ticket_ids) == [2, 3]
    assert stale.token != unknown.token
    # The old holder lost the rows: its writes change nothing.
    assert (
        reply_rows.set_state(runtime.db, Guard.claimed(unknown.token), [2, 3], ReplyState.SENT) == 0
    )
    assert reply_rows.active_jobs(runtime.db, run) == {"job-1"}
    assert reply_rows.tickets_of(runtime.db, Guard.job(run, "job-1")) == [1]


def fail(runtime: Runtime, run: RunKey, now: datetime, *, park_after: int | None = None) -> int:
    claim = reply_rows.claim_pending(runtime.db, run, limit=1, timeout=HOUR, now=now)
    assert claim is not None
    plan = RetryPlan(
        now=now,
        retry_at=now + timedelta(minutes=1),
        park_failing_since=now - HOUR,
        park_after_attempts=park_after,
    )
    return reply_rows.retry_later(
        runtime.db, Guard.claimed(claim.token), claim.ticket_ids, "boom", plan
    )


def test_a_failed_row_waits_for_its_next_attempt(runtime: Runtime) -> None:
    run = setup_run(runtime, [1])
    assert fail(runtime, run, NOW) == 0
    assert states(runtime, run)[1] == (ReplyState.PENDING, 1)
    assert reply_rows.claim_pending(runtime.db, run, limit=1, timeout=HOUR, now=NOW) is None
    assert reply_rows.next_attempt_after(runtime.db, run, NOW) == NOW + timedelta(minutes=1)
    later = NOW + timedelta(minutes=1)
    assert reply_rows.claim_pending(runtime.db, run, limit=1, timeout=HOUR, now=later)


def test_a_row_is_parked_after_the_horizon_or_its_refusals(runtime: Runtime) -> None:
    run = setup_run(runtime, [1, 2])
    # Curable failures go on until the row has been failing for longer than the horizon.
    at = NOW
    for _ in range(10):
        assert fail(runtime, run, at) == 0
        at += timedelta(minutes=5)
    assert states(runtime, run)[1] == (ReplyState.PENDING, 10)
    assert fail(runtime, run, NOW + timedelta(minutes=61)) == 1  # failing since NOW
    assert states(runtime, run)[1] == (ReplyState.FAILED, 11)
    # A refusal retrying cannot cure parks after its attempts.
    assert fail(runtime, run, NOW, park_after=2) == 0
    assert fail(runtime, run, NOW + timedelta(minutes=2), park_after=2) == 1
    assert states(runtime, run)[2] == (ReplyState.FAILED, 2)
    counts = reply_rows.count_states(runtime.db, run)
    assert counts[ReplyState.FAILED.value] == 2 and counts[ReplyState.PENDING.value] == 0
    # An admin puts them back, once, from a fresh attempt count and horizon.
    assert reply_rows.retry_failed(runtime.db, run, "admin") == 2
    assert reply_rows.retry_failed(runtime.db, run, "admin") == 0
    assert states(runtime, run) == {1: (ReplyState.PENDING, 0), 2: (ReplyState.PENDING, 0)}
    assert reply_rows.claim_pending(runtime.db, run, limit=5, timeout=HOUR, now=NOW)


def test_followups_are_claimed_once_until_released_or_expired(runtime: Runtime) -> None:
    run = setup_run(runtime, [1, 2, 3])
    claim = reply_rows.claim_pending(runtime.db, run, limit=100, timeout=HOUR, now=NOW)
    assert claim is not None
    guard = Guard.claimed(claim.token)
    reply_rows.set_state(runtime.db, guard, [1, 2], ReplyState.FOLLOWUP, "closed", release=True)
    reply_rows.set_state(runtime.db, guard, [3], ReplyState.SENT)

    token = reply_followups.claim_followups(runtime.db, run, limit=1, timeout=HOUR)
    assert token is not None
    owed = reply_followups.claimed_followups(runtime.db, token)
    assert [(o.ticket_id, o.attempted) for o in owed] == [(1, False)]
    other = reply_followups.claim_followups(runtime.db, run, limit=5, timeout=HOUR)
    assert other is not None
    assert [o.ticket_id for o in reply_followups.claimed_followups(runtime.db, other)] == [2]
    assert reply_followups.claim_followups(runtime.db, run, limit=5, timeout=HOUR) is None

    assert not reply_followups.mark_followup_attempted(runtime.db, other, 1)  # not its row
    assert reply_followups.mark_followup_attempted(runtime.db, token, 1)
    reply_followups.release_followups(runtime.db, token)
    again = reply_followups.claim_followups(runtime.db, run, limit=5, timeout=HOUR)
    assert again is not None
    owed = reply_followups.claimed_followups(runtime.db, again)
    assert [(o.ticket_id, o.attempted) for o in owed] == [(1, True)]  # look before creating
    reply_followups.record_followup(runtime.db, again, 1, 901)
    taken_over = reply_followups.claim_followups(runtime.db, run, limit=5, timeout=EXPIRED)
    assert taken_over is not None  # ticket 2's holder died
    assert [o.ticket_id for o in reply_followups.claimed_followups(runtime.db, taken_over)] == [2]
    assert reply_rows.count_states(runtime.db, run)["followup_open"] == 1


def test_the_summary_is_claimed_by_one_poster(runtime: Runtime) -> None:
    run = setup_run(runtime, [1])
    reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome)
    token = reply_runs.claim_summary(runtime.db, run, HOUR)
    assert token is not None
    assert reply_runs.claim_summary(runtime.db, run, HOUR) is None
    reply_runs.finish_summary(runtime.db, run, token, None)  # posting failed: free again
    token = reply_runs.claim_summary(runtime.db, run, HOUR)
    assert token is not None
    taken_over = reply_runs.claim_summary(runtime.db, run, EXPIRED)  # the poster died
    assert taken_over is not None
    reply_runs.finish_summary(runtime.db, run, token, "stale holder")  # changes nothing
    assert reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome).summary is None
    reply_runs.finish_summary(runtime.db, run, taken_over, "posted")
    record = reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome)
    assert record.summary == "posted" and record.summary_posted_at is not None
    assert reply_runs.claim_summary(runtime.db, run, EXPIRED) is None  # posted: never again


def test_held_reason_does_not_override_an_approval(runtime: Runtime) -> None:
    run = setup_run(runtime, [1])
    reply_runs.set_held_reason(runtime.db, run.problem_id, run.outcome, "waiting")
    assert reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome).held_reason is None
    reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome)
    reply_runs.set_held_reason(runtime.db, run.problem_id, run.outcome, "waiting")
    assert reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome).held_reason == "waiting"
    reply_runs.approve_run(runtime.db, run.problem_id, run.outcome, "ada")
    reply_runs.set_held_reason(runtime.db, run.problem_id, run.outcome, "waiting")
    record = reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome)
    assert record.approved and record.approved_by == "ada" and record.held_reason is None


def test_a_dead_fanouts_heartbeat_is_forgotten_when_the_watchdog_resumes(runtime: Runtime) -> None:
    run = setup_run(runtime, [1])
    reply_runs.ensure_run(runtime.db, run.problem_id, run.outcome)
    reply_runs.beat(runtime.db, run, NOW)
    assert reply_runs.last_beat(runtime.db, run.problem_id) == NOW
    # Not a newer beat: a run that beat again after the watchdog looked is left alone.
    reply_runs.clear_stale_beats(runtime.db, run.problem_id, NOW - HOUR)
    assert reply_runs.last_beat(runtime.db, run.problem_id) == NOW
    reply_runs.clear_stale_beats(runtime.db, run.problem_id, NOW)
    assert reply_runs.last_beat(runtime.db, run.problem_id) is None


def test_a_linked_ticket_without_a_row_yet_counts_as_unanswered(runtime: Runtime) -> None:
    run = setup_run(runtime, [1, 2], problem_ticket=1)
    claim = reply_rows.claim_pending(runtime.db, run, limit=5, timeout=HOUR, now=NOW)
    assert claim is not None and claim.ticket_ids == [2]
    reply_rows.set_state(runtime.db, Guard.claimed(claim.token), [2], ReplyState.SENT)
    assert reply_rows.others_unanswered(runtime.db, run) == 0
    with runtime.db.session() as s:  # linked after the run planned its rows
        s.add(Link(ticket_id=3, problem_id=run.problem_id, via=LinkVia.RULE))
    assert reply_rows.others_unanswered(runtime.db, run) == 1
