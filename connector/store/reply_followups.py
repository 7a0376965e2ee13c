"""The `Reply` rows of closed tickets that are owed a follow-up ticket: claimed with the same
`Lease` as the fan-out's rows, marked as attempted before the create call, then recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from connector.store.db import Database
from connector.store.models import Link, Reply, ReplyState, utcnow
from connector.store.reply_rows import (
    CLAIM,
    FOLLOWUP_MARK,
    Guard,
    RunRef,
    guarded_update,
    of_run,
    released,
)


@dataclass(frozen=True)
class OwedFollowup:
    ticket_id: int
    attempted: bool  # an earlier try may have created it: look before creating
    requester_id: int | None


def claim_followups(db: Database, run: RunRef, *, limit: int, timeout: timedelta) -> str | None:
    """Claim up to `limit` rows owing a follow-up (a claim older than `timeout` is taken over);
    the claim's token, or None when none is owed."""
    with db.session() as session:
        return CLAIM.take(
            session,
            *of_run(run),
            Reply.state == ReplyState.FOLLOWUP,
            Reply.followup_ticket_id.is_(None),
            timeout=timeout,
            limit=limit,
            skip_locked=True,
        )


def claimed_followups(db: Database, token: str) -> list[OwedFollowup]:
    with db.session() as session:
        found = session.execute(
            select(Reply.ticket_id, Reply.job_id, Link.requester_id)
            .outerjoin(Link, Link.ticket_id == Reply.ticket_id)
            .where(*Guard.followup(token).where())
            .order_by(Reply.ticket_id)
        ).all()
    return [OwedFollowup(t, job == FOLLOWUP_MARK, r) for t, job, r in found]


def mark_followup_attempted(db: Database, token: str, ticket_id: int) -> bool:
    """Before the create call: a crash after it leaves a row that is looked up, not re-created.
    False when this claim no longer holds the row (another worker took it over): do not create."""
    return _update(db, token, ticket_id, job_id=FOLLOWUP_MARK, attempts=Reply.attempts + 1) > 0


def record_followup(db: Database, token: str, ticket_id: int, followup_id: int) -> None:
    _update(db, token, ticket_id, followup_ticket_id=followup_id, error=None, **released())


def oldest_open_claim(db: Database, run: RunRef) -> datetime | None:
    """When the oldest claim on a still-owed follow-up was taken or renewed (None: none held)."""
    with db.session() as session:
        found: datetime | None = session.scalar(
            select(func.min(Reply.claimed_at)).where(
                *of_run(run),
                Reply.state == ReplyState.FOLLOWUP,
                Reply.followup_ticket_id.is_(None),
                Reply.batch_id.is_not(None),
            )
        )
    if found is not None and found.tzinfo is None:  # SQLite forgets the zone in aggregates
        found = found.replace(tzinfo=UTC)
    return found


def refresh_claim(db: Database, token: str) -> None:
    """The claim's heartbeat: its rows stay this worker's for another claim timeout."""
    with db.session() as session:
        session.execute(
            update(Reply)
            .where(Reply.batch_id == token, Reply.followup_ticket_id.is_(None))
            .values(claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def release_followups(db: Database, token: str, ticket_id: int | None = None) -> None:
    """Give the claim's rows (or one of them) back untouched: the next run takes them."""
    one = [Reply.ticket_id == ticket_id] if ticket_id is not None else []
    with db.session() as session:
        session.execute(
            update(Reply)
            .where(Reply.batch_id == token, Reply.followup_ticket_id.is_(None), *one)
            .values(**released())
            .execution_options(synchronize_session=False)
        )


def _update(db: Database, token: str, ticket_id: int, **values: Any) -> int:
    return guarded_update(db, Guard.followup(token), values, Reply.ticket_id == ticket_id)
