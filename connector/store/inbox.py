"""The inbox of stored webhook events, as the worker sees it: claim a batch, then mark each
event processed, ignored or failed; put failed ones back; count the ones left waiting.

Storing events (the web tier's side) is `connector.store.events_repo`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func, select, update

from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import EventState, InboundEvent, utcnow


def lease(timeout: timedelta) -> Lease:
    return Lease(InboundEvent.claimed_by, InboundEvent.claimed_at, timeout)


def claim(db: Database, limit: int, timeout: timedelta) -> list[InboundEvent]:
    """Claim up to `limit` pending events, oldest first; a claim older than `timeout` is taken
    over (its worker died mid-batch)."""
    events = lease(timeout)
    with db.session() as session:
        token = events.take(
            session,
            InboundEvent.state == EventState.PENDING,
            order_by=[InboundEvent.id],
            limit=limit,
        )
    if token is None:
        return []
    with db.session() as session:
        claimed = select(InboundEvent).where(events.held(token)).order_by(InboundEvent.id)
        return list(session.scalars(claimed))


def finish(db: Database, event_ids: Iterable[int], state: EventState) -> None:
    """Processed or ignored: the payload is dropped (the ticket or issue is re-read anyway)."""
    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(list(event_ids)), InboundEvent.state == EventState.PENDING)
            .values(state=state, processed_at=utcnow(), payload=None, content_hash=None)
        )


def record_failure(db: Database, event_ids: Iterable[int], error: str, max_attempts: int) -> None:
    """One more failed attempt; after `max_attempts` the event is failed (see `retry_failed`)."""
    ids = list(event_ids)
    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids))
            .values(attempts=InboundEvent.attempts + 1, error=error[:500], claimed_by=None)
        )
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.attempts >= max_attempts)
            .values(state=EventState.FAILED)
        )


def release(db: Database, event_ids: Iterable[int]) -> None:
    """Give claimed events back untried (no attempt counted): the next run takes them."""
    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(list(event_ids)))
            .values(claimed_by=None, claimed_at=None)
        )


def retry_failed(db: Database, event_ids: Iterable[int] | None = None) -> list[int]:
    """Put failed events (these, or all when None) back in the queue with a fresh attempt
    count; the ids that were put back."""
    where = [InboundEvent.state == EventState.FAILED]
    if event_ids is not None:
        where.append(InboundEvent.id.in_(list(event_ids)))
    with db.session() as session:
        ids = list(session.scalars(select(InboundEvent.id).where(*where).order_by(InboundEvent.id)))
        if ids:
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(ids), InboundEvent.state == EventState.FAILED)
                .values(
                    state=EventState.PENDING,
                    attempts=0,
                    error=None,
                    claimed_by=None,
                    claimed_at=None,
                )
            )
    return ids


def stale_pending_count(db: Database, older_than: timedelta) -> int:
    cutoff = utcnow() - older_than
    with db.session() as session:
        count = session.scalar(
            select(func.count()).where(
                InboundEvent.state == EventState.PENDING, InboundEvent.received_at < cutoff
            )
        )
        return int(count or 0)
