"""The inbox of stored webhook events, as the worker sees it: claim a batch, then mark each
event processed or ignored, or record a failure (the event waits until its next attempt, or is
parked as failed); put parked ones back; count the ones left waiting.

Storing events (the web tier's side) is `connector.store.events_repo`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from connector.counters import EVENTS_FINISHED
from connector.retry import RetryPlan
from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import EventState, InboundEvent, utcnow
from connector.store.parking import parking

CLAIM = Lease(InboundEvent.claimed_by, InboundEvent.claimed_at)


def claim(db: Database, limit: int, timeout: timedelta, now: datetime) -> list[InboundEvent]:
    """Claim up to `limit` pending events due at `now`, oldest first; a claim older than
    `timeout` is taken over (its worker died mid-batch)."""
    with db.session() as session:
        token = CLAIM.take(
            session,
            InboundEvent.state == EventState.PENDING,
            _due(now),
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
    finished: list[str] = []  # the sources of the events finished here, for /metrics
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            finished += session.scalars(
                update(InboundEvent)
                .where(
                    InboundEvent.id.in_(ids),
                    InboundEvent.claimed_by == token,
                    InboundEvent.state == EventState.PENDING,
                )
                .values(state=state, processed_at=utcnow(), payload=None, content_hash=None)
                .returning(InboundEvent.source)
            )
    for source in finished:
        EVENTS_FINISHED.labels(source, state.value).inc()


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(InboundEvent.next_attempt_at.is_(None), InboundEvent.next_attempt_at <= now)


def record_failure(
    db: Database, events: Iterable[InboundEvent], error: str, plan: RetryPlan
) -> int:
    """One more failed attempt, and the claim given back: the event waits until the plan's
    `retry_at`, or is parked as failed (see `retry_failed`) when the plan says so (see
    `store.parking`). How many were parked."""
    first_failed, park = parking(InboundEvent.first_failed_at, InboundEvent.attempts + 1, plan)
    parked = 0
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            held = [InboundEvent.id.in_(ids), InboundEvent.claimed_by == token]
            result = session.execute(
                update(InboundEvent).where(*held, park).values(state=EventState.FAILED)
            )
            parked += int(result.rowcount or 0)  # type: ignore[attr-defined]
            session.execute(
                update(InboundEvent)
                .where(*held)
                .values(
                    attempts=InboundEvent.attempts + 1,
                    error=error[:500],
                    claimed_by=None,
                    claimed_at=None,
                    next_attempt_at=plan.retry_at,
                    first_failed_at=first_failed,
                )
            )
    return parked


def release(
    db: Database, events: Iterable[InboundEvent], not_before: datetime | None = None
) -> None:
    """Give claimed events back untried (no attempt counted): a run at `not_before` or later
    (any run, when None) takes them."""
    values: dict[str, object] = {"claimed_by": None, "claimed_at": None}
    if not_before is not None:
        values["next_attempt_at"] = not_before
    with db.session() as session:
        for token, ids in _by_claim(events).items():
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(ids), InboundEvent.claimed_by == token)
                .values(values)
            )


def next_attempt_after(db: Database, now: datetime) -> datetime | None:
    """When the earliest pending event that waits for a later attempt is due (None: none waits)."""
    with db.session() as session:
        due: datetime | None = session.scalar(
            select(func.min(InboundEvent.next_attempt_at)).where(
                InboundEvent.state == EventState.PENDING, InboundEvent.next_attempt_at > now
            )
        )
    return due


def _by_claim(events: Iterable[InboundEvent]) -> dict[str | None, list[int]]:
    claims: dict[str | None, list[int]] = {}
    for event in events:
        claims.setdefault(event.claimed_by, []).append(event.id)
    return claims


def retry_failed(db: Database, event_ids: Iterable[int] | None = None) -> list[int]:
    """Put parked events (these, or all when None) back in the queue with a fresh attempt
    count and horizon; the ids that were put back (each once: a second call finds them pending)."""
    where = [InboundEvent.state == EventState.FAILED]
    if event_ids is not None:
        where.append(InboundEvent.id.in_(list(event_ids)))
    with db.session() as session:
        # RETURNING: the rows this statement moved, so two admins retrying at once each get
        # only their own (SQLite 3.35+ and PostgreSQL).
        ids = session.scalars(
            update(InboundEvent)
            .where(*where)
            .values(
                state=EventState.PENDING,
                attempts=0,
                error=None,
                claimed_by=None,
                claimed_at=None,
                next_attempt_at=None,
                first_failed_at=None,
            )
            .returning(InboundEvent.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(ids)


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
