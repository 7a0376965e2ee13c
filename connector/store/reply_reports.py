"""Read-only views of a reply run for preview and status (the CLI, the dashboard, the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from connector.store.db import Database
from connector.store.models import Link, Reply, ReplyState
from connector.store.reply_rows import RunRef, of_run


@dataclass(frozen=True)
class LinkedGroup:
    """How many linked tickets are in this reply state (None: no row yet) with this status."""

    state: ReplyState | None
    has_followup: bool
    ticket_status: str | None
    count: int


def linked_by_state(db: Database, problem_id: int, outcome: str) -> list[LinkedGroup]:
    """The problem's linked tickets grouped by their reply row's state and their status."""
    joined = _row_of(Link.ticket_id, problem_id, outcome)
    has_followup = Reply.followup_ticket_id.is_not(None)
    with db.session() as session:
        found = session.execute(
            select(Reply.state, has_followup, Link.ticket_status, func.count())
            .select_from(Link)
            .outerjoin(Reply, joined)
            .where(Link.problem_id == problem_id)
            .group_by(Reply.state, has_followup, Link.ticket_status)
        ).all()
    return [
        LinkedGroup(None if state is None else ReplyState(state), bool(followup), status, n)
        for state, followup, status, n in found
    ]


def unplanned_count(db: Database, run: RunRef) -> int:
    """Linked tickets that have no row for the run yet."""
    joined = _row_of(Link.ticket_id, run.problem_id, run.outcome)
    with db.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Link)
            .outerjoin(Reply, joined)
            .where(Link.problem_id == run.problem_id, Reply.id.is_(None))
        )
    return int(count or 0)


def unanswered(db: Database, run: RunRef, limit: int) -> list[tuple[int, ReplyState, str]]:
    """Failed and skipped tickets of the run, with the reason: (ticket, state, error)."""
    with db.session() as session:
        found = session.execute(
            select(Reply.ticket_id, Reply.state, Reply.error)
            .where(*of_run(run), Reply.state.in_((ReplyState.FAILED, ReplyState.SKIPPED)))
            .order_by(Reply.ticket_id)
            .limit(limit)
        ).all()
    return [(t, ReplyState(s), e or "") for t, s, e in found]


def followups_created(db: Database, run: RunRef, limit: int) -> list[tuple[int, int]]:
    """(closed ticket, its follow-up) of the run."""
    with db.session() as session:
        found = session.execute(
            select(Reply.ticket_id, Reply.followup_ticket_id)
            .where(*of_run(run), Reply.followup_ticket_id.is_not(None))
            .order_by(Reply.ticket_id)
            .limit(limit)
        ).all()
    return [(t, int(f or 0)) for t, f in found]


def problem_ticket_owed(db: Database, run: RunRef) -> tuple[bool, int | None]:
    """Whether the run's problem ticket is linked and still owed its answer (no row yet, or a
    pending one, and not closed), with its requester."""
    if run.problem_ticket_id is None:
        return False, None
    joined = _row_of(Link.ticket_id, run.problem_id, run.outcome)
    with db.session() as session:
        found = session.execute(
            select(Link.requester_id, Link.ticket_status, Reply.state)
            .select_from(Link)
            .outerjoin(Reply, joined)
            .where(Link.problem_id == run.problem_id, Link.ticket_id == run.problem_ticket_id)
        ).first()
    if found is None:
        return False, None
    requester, status, state = found
    owed = status != "closed" and state in (None, ReplyState.PENDING, ReplyState.PENDING.value)
    return owed, requester


def _row_of(ticket_id: Any, problem_id: int, outcome: str) -> ColumnElement[bool]:
    """Join condition: the ticket's reply row for this problem's outcome (if it has one)."""
    return and_(
        Reply.ticket_id == ticket_id, Reply.problem_id == problem_id, Reply.outcome == outcome
    )
