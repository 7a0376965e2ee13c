"""Reply runs (one per problem and outcome): their `ReplyRun` record (approval, why held, the Jira
summary and its claim), the planning of their per-ticket rows, and which problems still owe
replies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import (
    AuditEntry,
    Link,
    Problem,
    ProblemState,
    Reply,
    ReplyState,
    utcnow,
)
from connector.store.reply_models import ReplyRun
from connector.store.reply_rows import OPEN_STATES, RunRef


def get_problem(db: Database, problem_id: int) -> Problem | None:
    with db.session() as session:
        return session.get(Problem, problem_id)


def find_problem_id(db: Database, ref: str) -> int | None:
    """The problem with this id or Jira key (any case)."""
    with db.session() as session:
        if ref.isdigit() and session.get(Problem, int(ref)) is not None:
            return int(ref)
        found = session.scalar(select(Problem.id).where(Problem.jira_key == ref.upper()))
    return None if found is None else int(found)


def ensure_run(db: Database, problem_id: int, outcome: str) -> ReplyRun:
    """The ReplyRun record of (problem, outcome); concurrent callers end up with the same row."""
    with db.session() as session:
        return _ensure(session, problem_id, outcome)


def set_held_reason(db: Database, problem_id: int, outcome: str, reason: str | None) -> None:
    """Why nothing is sent yet (None: sending). An approval given meanwhile wins."""
    where = [ReplyRun.problem_id == problem_id, ReplyRun.outcome == outcome]
    if reason is not None:
        where.append(ReplyRun.approved.is_(False))
    with db.session() as session:
        session.execute(update(ReplyRun).where(*where).values(held_reason=reason))


def approve_run(db: Database, problem_id: int, outcome: str, actor: str) -> None:
    """Approve the outcome's reply, with an audit entry."""
    with db.session() as session:
        record = _ensure(session, problem_id, outcome)
        record.approved, record.approved_by, record.approved_at = True, actor, utcnow()
        record.held_reason = None
        session.add(
            AuditEntry(
                problem_id=problem_id,
                action="replies.approved",
                actor=actor,
                detail={"outcome": outcome},
            )
        )


def _ensure(session: Session, problem_id: int, outcome: str) -> ReplyRun:
    found = _record(session, problem_id, outcome)
    if found is not None:
        return found
    now = utcnow()
    values = {
        "problem_id": problem_id,
        "outcome": outcome,
        "approved": False,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(_insert(session, ReplyRun).values(**values).on_conflict_do_nothing())
    record = _record(session, problem_id, outcome)
    assert record is not None
    return record


def _record(session: Session, problem_id: int, outcome: str) -> ReplyRun | None:
    query = select(ReplyRun).where(ReplyRun.problem_id == problem_id, ReplyRun.outcome == outcome)
    return session.scalars(query).first()


def plan_rows(db: Database, run: RunRef) -> int:
    """Add a pending Reply row for every linked ticket that has none for this outcome, in one
    INSERT ... SELECT (nothing is loaded into memory); pending rows of tickets that left the
    problem are skipped. Returns the number of rows added."""
    now = utcnow()
    has_row = exists().where(
        Reply.problem_id == run.problem_id,
        Reply.outcome == run.outcome,
        Reply.ticket_id == Link.ticket_id,
    )
    source = select(
        Link.ticket_id,
        literal(run.problem_id),
        literal(run.outcome),
        literal(ReplyState.PENDING.value),
        literal(0),
        literal(now, Reply.updated_at.type),
    ).where(Link.problem_id == run.problem_id, ~has_row)
    columns = ["ticket_id", "problem_id", "outcome", "state", "attempts", "updated_at"]
    with db.session() as session:
        added = session.execute(
            _insert(session, Reply).from_select(columns, source).on_conflict_do_nothing()
        ).rowcount  # type: ignore[attr-defined]
        still_linked = exists().where(
            Link.ticket_id == Reply.ticket_id, Link.problem_id == Reply.problem_id
        )
        session.execute(
            update(Reply)
            .where(
                Reply.problem_id == run.problem_id,
                Reply.outcome == run.outcome,
                Reply.state == ReplyState.PENDING,
                ~still_linked,
            )
            .values(state=ReplyState.SKIPPED, error="unlinked before the reply was sent")
            .execution_options(synchronize_session=False)
        )
    return max(int(added or 0), 0)  # -1 where the driver cannot tell


SUMMARY_CLAIM = Lease(ReplyRun.summary_claim, ReplyRun.summary_claimed_at)


def beat(db: Database, run: RunRef, now: datetime | None) -> None:
    """The fan-out's heartbeat on its run (None: the fan-out ended and left nothing running)."""
    with db.session() as session:
        session.execute(
            update(ReplyRun)
            .where(ReplyRun.problem_id == run.problem_id, ReplyRun.outcome == run.outcome)
            .values(fanout_seen_at=now)
            .execution_options(synchronize_session=False)
        )


def clear_stale_beats(db: Database, problem_id: int, seen: datetime) -> None:
    """Forget heartbeats as old as `seen` (their fan-out died): a resumed run beats anew, and a
    run that is not resumed (its outcome changed, it is held) no longer wakes the watchdog."""
    with db.session() as session:
        session.execute(
            update(ReplyRun)
            .where(ReplyRun.problem_id == problem_id, ReplyRun.fanout_seen_at <= seen)
            .values(fanout_seen_at=None)
            .execution_options(synchronize_session=False)
        )


def last_beat(db: Database, problem_id: int) -> datetime | None:
    """The latest heartbeat of a fan-out on any of the problem's runs (None: none running)."""
    with db.session() as session:
        seen: datetime | None = session.scalar(
            select(func.max(ReplyRun.fanout_seen_at)).where(ReplyRun.problem_id == problem_id)
        )
    if seen is not None and seen.tzinfo is None:  # SQLite forgets the zone in aggregates
        seen = seen.replace(tzinfo=utcnow().tzinfo)
    return seen


def claim_summary(db: Database, run: RunRef, timeout: timedelta) -> str | None:
    """Claim the posting of the run's Jira summary, unless it is posted; a claim older than
    `timeout` is taken over (its poster died). The token, or None."""
    with db.session() as session:
        return SUMMARY_CLAIM.take(
            session,
            ReplyRun.problem_id == run.problem_id,
            ReplyRun.outcome == run.outcome,
            ReplyRun.summary_posted_at.is_(None),
            timeout=timeout,
        )


def finish_summary(db: Database, run: RunRef, token: str, text: str | None) -> None:
    """Release the summary claim, recording the posted `text` (None: not posted)."""
    values: dict[str, Any] = SUMMARY_CLAIM.released()
    if text is not None:
        values |= {"summary_posted_at": utcnow(), "summary": text}
    with db.session() as session:
        session.execute(
            update(ReplyRun)
            .where(
                ReplyRun.problem_id == run.problem_id,
                ReplyRun.outcome == run.outcome,
                SUMMARY_CLAIM.held(token),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def unfinished_problems(
    db: Database, *, send_workaround: bool, workaround: str, unmapped: str
) -> list[int]:
    """Problems owing replies for their current outcome (the resolution's, `unmapped` without
    one, or `workaround` for an open problem with an agreed workaround when `send_workaround`):
    linked tickets without a row, rows not delivered, or a finished run whose Jira summary is
    missing."""
    outcome = case(
        (Problem.state == ProblemState.RESOLVED, func.coalesce(Problem.outcome, unmapped)),
        else_=literal(workaround),
    )
    workaround_open = and_(
        literal(send_workaround),
        Problem.state == ProblemState.OPEN,
        func.lower(Problem.solution_kind) == workaround,
        func.coalesce(Problem.solution_text, "") != "",
    )
    of_outcome = and_(Reply.problem_id == Problem.id, Reply.outcome == outcome)
    unplanned = exists().where(
        Link.problem_id == Problem.id,
        ~exists().where(of_outcome, Reply.ticket_id == Link.ticket_id),
    )
    undelivered = exists().where(
        of_outcome,
        or_(
            Reply.state.in_(OPEN_STATES),
            and_(Reply.state == ReplyState.FOLLOWUP, Reply.followup_ticket_id.is_(None)),
        ),
    )
    no_summary = and_(
        Problem.jira_key.is_not(None),
        exists().where(of_outcome),
        exists().where(
            ReplyRun.problem_id == Problem.id,
            ReplyRun.outcome == outcome,
            ReplyRun.summary_posted_at.is_(None),
        ),
    )
    query = (
        select(Problem.id)
        .where(
            or_(Problem.state == ProblemState.RESOLVED, workaround_open),
            or_(unplanned, undelivered, no_summary),
        )
        .order_by(Problem.id)
    )
    with db.session() as session:
        return list(session.scalars(query))


def _insert(session: Session, model: Any) -> Any:
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)
