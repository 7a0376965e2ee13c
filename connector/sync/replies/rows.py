"""The Reply rows of one run, as compare-and-set steps that are safe with several workers on
SQLite and PostgreSQL: every write names the state (and claim or job) it expects, so a worker
that lost a race changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select, update

from connector.store.models import Reply, ReplyState, utcnow

if TYPE_CHECKING:
    from connector.sync.ports import AppContext, Services
    from connector.sync.replies.plan import Run

BATCH = 100
FOLLOWUP_MARK = "followup"  # job_id of a row whose follow-up creation may have been attempted
OPEN_STATES = (ReplyState.PENDING, ReplyState.CLAIMED)


@dataclass(frozen=True)
class Claim:
    token: str
    ticket_ids: list[int]


def of_run(run: Run) -> list[ColumnElement[bool]]:
    return [Reply.problem_id == run.problem_id, Reply.outcome == run.outcome]


def claim_pending(runtime: Services, run: Run, size: int = BATCH) -> Claim | None:
    """Claim up to `size` pending rows in one UPDATE (the problem ticket goes last: solving it
    in Zendesk copies its comment to its open incidents, so they must be answered first)."""
    token, now = uuid.uuid4().hex, utcnow()
    wanted = select(Reply.id).where(*of_run(run), Reply.state == ReplyState.PENDING)
    if run.problem_ticket_id is not None and _others_open(runtime, run):
        wanted = wanted.where(Reply.ticket_id != run.problem_ticket_id)
    wanted = wanted.order_by(Reply.ticket_id).limit(size).with_for_update(skip_locked=True)
    with runtime.db.session() as session:
        # Two statements, not UPDATE ... IN (SELECT ... LIMIT): PostgreSQL may rescan such a
        # subquery and update more rows than the limit. The guard on the state is the CAS.
        ids = list(session.scalars(wanted))
        if not ids:
            return None
        session.execute(
            update(Reply)
            .where(Reply.id.in_(ids), Reply.state == ReplyState.PENDING)
            .values(
                state=ReplyState.CLAIMED,
                batch_id=token,
                claimed_at=now,
                job_id=None,
                error=None,
                attempts=Reply.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    tickets = tickets_where(runtime, Reply.batch_id == token, Reply.state == ReplyState.CLAIMED)
    return Claim(token, tickets) if tickets else None


def _others_open(runtime: Services, run: Run) -> bool:
    with runtime.db.session() as session:
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


def claim_stale_unknown(runtime: Services, run: Run, timeout: timedelta) -> Claim | None:
    """Take over claimed rows with no job on record whose claim is older than `timeout`: their
    update may or may not have happened (a crash, a timeout), so the caller reads the tags."""
    token, now = uuid.uuid4().hex, utcnow()
    stale = (
        select(Reply.id)
        .where(
            *of_run(run),
            Reply.state == ReplyState.CLAIMED,
            Reply.job_id.is_(None),
            Reply.claimed_at < now - timeout,
        )
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    with runtime.db.session() as session:
        ids = list(session.scalars(stale))
        if not ids:
            return None
        session.execute(
            update(Reply)
            .where(
                Reply.id.in_(ids),
                Reply.state == ReplyState.CLAIMED,
                Reply.job_id.is_(None),
                Reply.claimed_at < now - timeout,
            )
            .values(batch_id=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    tickets = tickets_where(runtime, Reply.batch_id == token, Reply.state == ReplyState.CLAIMED)
    return Claim(token, tickets) if tickets else None


def record_job(runtime: Services, claim: Claim, job_id: str) -> int:
    with runtime.db.session() as session:
        result = session.execute(
            update(Reply)
            .where(Reply.batch_id == claim.token, Reply.state == ReplyState.CLAIMED)
            .values(job_id=job_id)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release(runtime: Services, claim: Claim) -> None:
    """Zendesk refused the call (429): nothing happened, so the attempt does not count."""
    with runtime.db.session() as session:
        session.execute(
            update(Reply)
            .where(Reply.batch_id == claim.token, Reply.state == ReplyState.CLAIMED)
            .values(
                state=ReplyState.PENDING,
                batch_id=None,
                job_id=None,
                claimed_at=None,
                attempts=Reply.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )


def mark_unknown(runtime: Services, claim: Claim, reason: str) -> None:
    """The update may have reached Zendesk: keep the claim; the tags tell after the timeout."""
    with runtime.db.session() as session:
        session.execute(
            update(Reply)
            .where(Reply.batch_id == claim.token, Reply.state == ReplyState.CLAIMED)
            .values(error=f"unknown: {reason}"[:500])
            .execution_options(synchronize_session=False)
        )


def active_jobs(runtime: Services, run: Run) -> set[str]:
    with runtime.db.session() as session:
        return set(
            session.scalars(
                select(Reply.job_id)
                .where(
                    *of_run(run),
                    Reply.state == ReplyState.CLAIMED,
                    Reply.job_id.is_not(None),
                )
                .distinct()
            )
        )


def tickets_where(runtime: Services, *conditions: Any) -> list[int]:
    with runtime.db.session() as session:
        return list(session.scalars(select(Reply.ticket_id).where(*conditions)))


def set_state(
    runtime: Services,
    guard: Sequence[ColumnElement[bool]],
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
        values.update(batch_id=None, job_id=None, claimed_at=None)
    with runtime.db.session() as session:
        result = session.execute(
            update(Reply)
            .where(*guard, Reply.ticket_id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry_or_fail(
    runtime: Services,
    guard: Sequence[ColumnElement[bool]],
    ticket_ids: Iterable[int],
    error: str,
    max_attempts: int,
) -> None:
    ids = list(ticket_ids)
    if not ids:
        return
    with runtime.db.session() as session:
        for state, attempts in (
            (ReplyState.FAILED, Reply.attempts >= max_attempts),
            (ReplyState.PENDING, Reply.attempts < max_attempts),
        ):
            session.execute(
                update(Reply)
                .where(*guard, Reply.ticket_id.in_(ids), attempts)
                .values(state=state, error=error[:500], batch_id=None, job_id=None)
                .execution_options(synchronize_session=False)
            )


def count_states(runtime: AppContext, run: Run) -> dict[str, int]:
    """Rows of the run by state; `followup_open` counts follow-ups not yet created."""
    with runtime.db.session() as session:
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


def oldest_claim(runtime: Services, run: Run) -> datetime | None:
    with runtime.db.session() as session:
        return session.scalar(
            select(func.min(Reply.claimed_at)).where(
                *of_run(run), Reply.state == ReplyState.CLAIMED, Reply.job_id.is_(None)
            )
        )
