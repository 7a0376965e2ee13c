"""Inbound events: stored by the web tier, processed here by the handler for their type.

Handlers are registered per (source, event type). A type with no handler is recorded as
ignored, so the sender is never asked to retry it and nothing waits on it forever.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from connector.logs import log_event
from connector.store.models import EventState, InboundEvent

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)

Handler = Callable[["Runtime", list[InboundEvent]], None]
HANDLERS: dict[tuple[str, str], Handler] = {}
SOURCE_HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 8
CLAIM_TTL = timedelta(minutes=5)


def handles(source: str, *event_types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for event_type in event_types:
            HANDLERS[(source, event_type)] = fn
        return fn

    return register


def handles_source(source: str) -> Callable[[Handler], Handler]:
    """Handle every stored event of a source (the web tier stores only handled types)."""

    def register(fn: Handler) -> Handler:
        SOURCE_HANDLERS[source] = fn
        return fn

    return register


def handler_for(event: InboundEvent) -> Handler | None:
    return HANDLERS.get((event.source, event.event_type)) or SOURCE_HANDLERS.get(event.source)


def claim_events(runtime: Runtime, limit: int) -> list[InboundEvent]:
    """Claim up to `limit` pending events for this worker (compare-and-set on each row).

    A claim older than CLAIM_TTL is taken over: its worker died mid-batch.
    """
    token, now = uuid.uuid4().hex, datetime.now(UTC)
    free = or_(InboundEvent.claimed_by.is_(None), InboundEvent.claimed_at < now - CLAIM_TTL)
    with runtime.db.session() as session:
        ids = list(
            session.scalars(
                select(InboundEvent.id)
                .where(InboundEvent.state == EventState.PENDING, free)
                .order_by(InboundEvent.id)
                .limit(limit)
            )
        )
        if not ids:
            return []
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.state == EventState.PENDING, free)
            .values(claimed_by=token, claimed_at=now)
        )
    with runtime.db.session() as session:
        claimed = select(InboundEvent).where(InboundEvent.claimed_by == token)
        return list(session.scalars(claimed.order_by(InboundEvent.id)))


def process_pending(runtime: Runtime, limit: int | None = None) -> int:
    """Process one batch of pending events, grouped by handler; returns how many were handled."""
    events = claim_events(runtime, limit or runtime.settings.event_batch_size)
    groups: dict[Handler | None, list[InboundEvent]] = {}
    for event in events:
        groups.setdefault(handler_for(event), []).append(event)
    for handler, batch in groups.items():
        if handler is None:
            _finish(runtime, batch, EventState.IGNORED)
            for event in batch:
                log_event(log, "event.ignored", source=event.source, type=event.event_type)
            continue
        try:
            handler(runtime, batch)
        except Exception as exc:
            _record_failure(runtime, batch, exc)
            raise
        _finish(runtime, batch, EventState.PROCESSED)
    return len(events)


def _finish(runtime: Runtime, events: list[InboundEvent], state: EventState) -> None:
    ids = [e.id for e in events]
    with runtime.db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.state == EventState.PENDING)
            .values(state=state, processed_at=datetime.now(UTC), payload=None, content_hash=None)
        )


def _record_failure(runtime: Runtime, events: list[InboundEvent], exc: Exception) -> None:
    ids = [e.id for e in events]
    with runtime.db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids))
            .values(attempts=InboundEvent.attempts + 1, error=str(exc)[:500], claimed_by=None)
        )
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.attempts >= MAX_ATTEMPTS)
            .values(state=EventState.FAILED)
        )


def stale_pending_count(runtime: Runtime, older_than: timedelta) -> int:
    cutoff = datetime.now(UTC) - older_than
    with runtime.db.session() as session:
        count = session.scalar(
            select(func.count()).where(
                InboundEvent.state == EventState.PENDING, InboundEvent.received_at < cutoff
            )
        )
        return int(count or 0)
