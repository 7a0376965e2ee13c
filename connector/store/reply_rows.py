"""The per-ticket `Reply` rows of one run (problem and outcome) as the fan-out sees them: claim a
batch, record its job, settle each ticket's state; count and look up.

Every step is safe with several workers on SQLite and PostgreSQL: a claim is the one `Lease`
(`Reply.batch_id`, `Reply.claimed_at`), and every write names what it expects of a row (a
`Guard`: its state and its claim or job), so a worker that lost a race changes nothing.
Follow-ups for closed tickets are `connector.store.reply_followups`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, func, or_, select, update

from connector.retry import RetryPlan
from connector.store import audit
from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import Link, Reply, ReplyState
from connector.store.parking import parking

FOLLOWUP_MARK = "followup"  # job_id of a row whose follow-up creation may have been attempted
OPEN_STATES = (ReplyState.PENDING, ReplyState.CLAIMED)


class RunRef(Protocol):
    """Which run: the rows of one problem's outcome (the sync core's `Run` is one)."""

    @property
    def problem_id(self) -> int: ...

    @property
    def outcome(self) -> str: ...

    @property
    def problem_ticket_id(self) -> int | None: ...


@dataclass(frozen=True)
class Claim:
    token: str
    ticket_ids: list[int]


@dataclass(frozen=True)
class Guard:
    """What a write expects of a row (the compare of compare-and-set): its state, and the claim
    token or the job (of a run) it belongs to."""

    state: ReplyState
    token: str | None = None
    job_id: str | None = None
    run: tuple[int, str] | None = None

    @classmethod
    def claimed(cls, token: str) -> Guard:
        return cls(ReplyState.CLAIMED, token=token)

    @classmethod
    def job(cls, run: RunRef, job_id: str) -> Guard:
        return cls(ReplyState.CLAIMED, job_id=job_id, run=(run.problem_id, run.outcome))

    @classmethod
    def followup(cls, token: str) -> Guard:
        return cls(ReplyState.FOLLOWUP, token=token)

    def where(self) -> list[ColumnElement[bool]]:
        conditions = [Reply.state == self.state]
        if self.token is not None:
            conditions.append(Reply.batch_id == self.token)
        if self.job_id is not None:
            conditions.append(Reply.job_id == self.job_id)
        if self.run is not None:
            conditions += [Reply.problem_id == self.run[0], Reply.outcome == self.run[1]]
        return conditions


CLAIM = Lease(Reply.batch_id, Reply.claimed_at)


def released() -> dict[str, Any]:
    """The values that free a row's claim."""
    return CLAIM.released()


def of_run(run: RunRef) -> list[ColumnElement[bool]]:
    return [Reply.problem_id == run.problem_id, Reply.outcome == run.outcome]


def claim_pending(
    db: Database, run: RunRef, *, limit: int, timeout: timedelta, now: datetime
) -> Claim | None:
    """Claim up to `limit` pending rows due at `now`, by ticket id, counting an attempt. The
    problem ticket is claimed alone, and only once no other row is open: it gets an update of
    its own, and solving it in Zendesk copies its comment to its open incidents, so they must
    be answered first."""
    wanted = [*of_run(run), Reply.state == ReplyState.PENDING, _due(now)]
    problem_ticket = run.problem_ticket_id
    if problem_ticket is None:
        return _take(db, wanted, limit, timeout)
    others = _take(db, [*wanted, Reply.ticket_id != problem_ticket], limit, timeout)
    if others is not None or _others_open(db, run):
        return others
    return _take(db, [*wanted, Reply.ticket_id == problem_ticket], 1, timeout)


def _take(
    db: Database, wanted: list[ColumnElement[bool]], limit: int, timeout: timedelta
) -> Claim | None:
    claiming = {
        "state": ReplyState.CLAIMED,
        "job_id": None,
        "error": None,
        "attempts": Reply.attempts + 1,
    }
    with db.session() as session:
        token = CLAIM.take(
            session,
            *wanted,
            timeout=timeout,
            order_by=[Reply.ticket_id],
            limit=limit,
            values=claiming,
            skip_locked=True,
        )
    return _claim_of(db, token)


def others_unanswered(db: Database, run: RunRef) -> int:
    """Rows of the run's other tickets not answered (open, or parked as failed): while any is,
    the problem ticket must not be solved (Zendesk would copy its comment onto them)."""
    done = select(Reply.ticket_id).where(
        *of_run(run), Reply.state.in_((ReplyState.SENT, ReplyState.SKIPPED, ReplyState.FOLLOWUP))
    )
    with db.session() as session:
        count = session.scalar(  # linked tickets (planned or not yet) whose answer is not done
            select(func.count()).where(
                Link.problem_id == run.problem_id,
                Link.ticket_id != run.problem_ticket_id,
                Link.ticket_id.not_in(done),
            )
        )
    return int(count or 0)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now)


def next_attempt_after(db: Database, run: RunRef, now: datetime) -> datetime | None:
    """When the run's earliest pending row that waits for a later attempt is due."""
    with db.session() as session:
        due: datetime | None = session.scalar(
            select(func.min(Reply.next_attempt_at)).where(
                *of_run(run), Reply.state == ReplyState.PENDING, Reply.next_attempt_at > now
            )
        )
    return due


def _others_open(db: Database, run: RunRef) -> bool:
    with db.session() as session:
        found = session.scalar(
            select(Reply.id)
            .where(
                *of_run(run),
                Reply.state.in_(OPEN_STATES),
                Reply.ticket_id != run.problem_ticket_id,
            )
            .limit(1)
        )
    return found is not None


def claim_stale_unknown(
    db: Database, run: RunRef, *, limit: int, timeout: timedelta
) -> Claim | None:
    """Take over claimed rows with no job on record whose claim is older than `timeout`: their
    update may or may not have happened (a crash, a timeout), so the caller reads the tags."""
    with db.session() as session:
        token = CLAIM.take(
            session,
            *of_run(run),
            Reply.state == ReplyState.CLAIMED,
            Reply.job_id.is_(None),
            Reply.batch_id.is_not(None),  # so only an expired claim counts as free
            timeout=timeout,
            limit=limit,
            skip_locked=True,
        )
    return _claim_of(db, token)


def _claim_of(db: Database, token: str | None) -> Claim | None:
    if token is None:
        return None
    tickets = tickets_of(db, Guard.claimed(token))
    return Claim(token, tickets) if tickets else None


def record_job(db: Database, claim: Claim, job_id: str) -> int:
    """The job that carries the claim's update; the number of rows still held by the claim."""
    return guarded_update(db, Guard.claimed(claim.token), {"job_id": job_id})


def release_claim(db: Database, claim: Claim) -> None:
    """Zendesk refused the call (429): nothing happened, so the attempt does not count."""
    values = {
        "state": ReplyState.PENDING,
        "job_id": None,
        "attempts": Reply.attempts - 1,
        **released(),
    }
    guarded_update(db, Guard.claimed(claim.token), values)


def mark_unknown(db: Database, claim: Claim, reason: str) -> None:
    """The update may have reached Zendesk: keep the claim; the tags tell after the timeout."""
    guarded_update(db, Guard.claimed(claim.token), {"error": f"unknown: {reason}"[:500]})


def active_jobs(db: Database, run: RunRef) -> set[str]:
    with db.session() as session:
        return set(
            session.scalars(
                select(Reply.job_id)
                .where(*of_run(run), Reply.state == ReplyState.CLAIMED, Reply.job_id.is_not(None))
                .distinct()
            )
        )


def tickets_of(db: Database, guard: Guard) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(Reply.ticket_id).where(*guard.where())))


def set_state(
    db: Database,
    guard: Guard,
    ticket_ids: Iterable[int],
    state: ReplyState,
    error: str | None = None,
    *,
    release: bool = False,
) -> int:
    """Move the guarded rows of these tickets to `state`; `release` clears claim and job."""
    ids = list(ticket_ids)
    if not ids:
        return 0
    values: dict[str, Any] = {"state": state, "error": error}
    if release:
        values.update(job_id=None, **released())
    return guarded_update(db, guard, values, Reply.ticket_id.in_(ids))


def retry_later(
    db: Database, guard: Guard, ticket_ids: Iterable[int], error: str, plan: RetryPlan
) -> int:
    """Back to pending, not to be claimed before the plan's `retry_at`; parked as failed
    instead when the plan says so (see `store.parking`; a row's attempt was counted when it
    was claimed). How many were parked."""
    ids = list(ticket_ids)
    if not ids:
        return 0
    first_failed, park = parking(Reply.first_failed_at, Reply.attempts, plan)
    values = {"error": error[:500], "job_id": None, "first_failed_at": first_failed, **released()}
    where = [*guard.where(), Reply.ticket_id.in_(ids)]
    with db.session() as session:
        parked = session.execute(
            update(Reply)
            .where(*where, park)
            .values(state=ReplyState.FAILED, **values)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Reply)
            .where(*where)
            .values(state=ReplyState.PENDING, next_attempt_at=plan.retry_at, **values)
            .execution_options(synchronize_session=False)
        )
    return int(parked.rowcount or 0)  # type: ignore[attr-defined]


def most_attempts(db: Database, guard: Guard, ticket_ids: Iterable[int]) -> int:
    """The most attempts any of these guarded rows has had (the exponent of their backoff)."""
    with db.session() as session:
        found = session.scalar(
            select(func.max(Reply.attempts)).where(
                *guard.where(), Reply.ticket_id.in_(list(ticket_ids))
            )
        )
    return int(found or 0)


def retry_failed(db: Database, run: RunRef, actor: str) -> int:
    """Put the run's parked rows back to pending with a fresh attempt count and horizon, with
    an audit entry naming `actor`; how many (each once: a second call finds them pending)."""
    values = {
        "state": ReplyState.PENDING,
        "attempts": 0,
        "error": None,
        "job_id": None,
        "next_attempt_at": None,
        "first_failed_at": None,
        **released(),
    }
    parked = Guard(ReplyState.FAILED, run=(run.problem_id, run.outcome))
    with db.session() as session:
        result = session.execute(
            update(Reply)
            .where(*parked.where())
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            audit.record(
                session,
                run.problem_id,
                "replies.retried",
                actor=actor,
                detail={"outcome": run.outcome, "tickets": count},
            )
    return count


def count_states(db: Database, run: RunRef) -> dict[str, int]:
    """Rows of the run by state; `followup_open` counts follow-ups not yet created."""
    with db.session() as session:
        rows = session.execute(
            select(Reply.state, Reply.followup_ticket_id.is_(None), func.count())
            .where(*of_run(run))
            .group_by(Reply.state, Reply.followup_ticket_id.is_(None))
        ).all()
    counts: dict[str, int] = {s.value: 0 for s in ReplyState} | {"followup_open": 0}
    for state, no_followup, n in rows:
        key = ReplyState(state).value
        if key == ReplyState.FOLLOWUP.value and no_followup:
            key = "followup_open"
        counts[key] += n
    return counts


def oldest_unknown_claim(db: Database, run: RunRef) -> datetime | None:
    """When the oldest claim without a job was taken (it is read back once it is stale)."""
    with db.session() as session:
        return session.scalar(
            select(func.min(Reply.claimed_at)).where(
                *of_run(run), Reply.state == ReplyState.CLAIMED, Reply.job_id.is_(None)
            )
        )


def guarded_update(
    db: Database, guard: Guard, values: dict[str, Any], *more: ColumnElement[bool]
) -> int:
    """Write `values` to the rows the guard (and `more`) still describe; how many it wrote."""
    with db.session() as session:
        result = session.execute(
            update(Reply)
            .where(*guard.where(), *more)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
