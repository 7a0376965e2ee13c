"""The inbox of stored webhook events, as the worker sees it: claim a batch, then mark each
event processed, ignored or failed; put failed ones back; count the ones left waiting.

Storing events (the web tier's side) is `connector.store.events_repo`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import EventState, InboundEvent, utcnow

CLAIM = Lease(InboundEvent.claimed_by, InboundEvent.claimed_at)


def claim(db: Database, limit: int, timeout: timedelta) -> list[InboundEvent]:
    """Claim up to `limit` pending events, oldest first; a claim older than `timeout` is taken
    over (its worker died mid-batch)."""
    with db.session() as session:
        token = CLAIM.take(
            session,
            InboundEvent.state == EventState.PENDING,
            timeout=timeout,
            order_by=[InboundEvent.id],
            limit=limit,
        )
    if token is None:
        return []
    with db.session() as session:
        claimed = select(InboundEvent).where(CLAIM.held(token)).order_by(InboundEvent.id)
        return list(session.scalars(claimed))


def finish(db: Database, events: Iterable[InboundEvent], state: EventState) -> None:
    """Processed or ignored: the payload is dropped (the ticket or issue is re-read anyway).
    Only events this claim still holds are touched (a claim that expired went to another
    worker, which will process them again)."""
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            session.execute(
                update(InboundEvent)
                .where(
                    InboundEvent.id.in_(ids),
                    InboundEvent.claimed_by == token,
                    InboundEvent.state == EventState.PENDING,
                )
                .values(state=state, processed_at=utcnow(), payload=None, content_hash=None)
            )


def record_failure(
    db: Database, events: Iterable[InboundEvent], error: str, max_attempts: int
) -> None:
    """One more failed attempt, and the claim given back; after `max_attempts` the event is
    failed (see `retry_failed`)."""
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            held = [InboundEvent.id.in_(ids), InboundEvent.claimed_by == token]
            session.execute(
                update(InboundEvent)
                .where(*held, InboundEvent.attempts + 1 >= max_attempts)
                .values(state=EventState.FAILED)
            )
            session.execute(
                update(InboundEvent)
                .where(*held)
                .values(
                    attempts=InboundEvent.attempts + 1,
                    error=error[:500],
                    claimed_by=None,
                    claimed_at=None,
                )
            )


def release(db: Database, events: Iterable[InboundEvent]) -> None:
    """Give claimed events back untried (no attempt counted): the next run takes them."""
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(ids), InboundEvent.claimed_by == token)
                .values(claimed_by=None, claimed_at=None)
            )


def _by_claim(events: Iterable[InboundEvent]) -> dict[str | None, list[int]]:
    claims: dict[str | None, list[int]] = {}
    for event in events:
        claims.setdefault(event.claimed_by, []).append(event.id)
    return claims


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


def delete_finished_before(
    db: Database, cutoff: datetime, *, batch: int = 1000, max_batches: int = 20
) -> int:
    """Delete processed and ignored events finished before `cutoff`, `batch` rows per
    statement (short transactions beside the web tier's inserts), at most `max_batches` a call;
    the number deleted. Failed and pending events stay."""
    finished = [
        InboundEvent.state.in_((EventState.PROCESSED, EventState.IGNORED)),
        InboundEvent.processed_at < cutoff,
    ]
    deleted = 0
    for _ in range(max_batches):
        with db.session() as session:
            ids = list(
                session.scalars(
                    select(InboundEvent.id).where(*finished).order_by(InboundEvent.id).limit(batch)
                )
            )
            if ids:
                session.execute(delete(InboundEvent).where(InboundEvent.id.in_(ids), *finished))
        deleted += len(ids)
        if len(ids) < batch:
            break
    return deleted


def stale_pending_count(db: Database, older_than: timedelta) -> int:
    cutoff = utcnow() - older_than
    with db.session() as session:
        count = session.scalar(
            select(func.count()).where(
                InboundEvent.state == EventState.PENDING, InboundEvent.received_at < cutoff
            )
        )
        return int(count or 0)
