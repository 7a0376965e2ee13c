"""Storing inbound webhook deliveries, once each.

The unique constraints on (source, delivery_id) and (source, content_hash) decide what is a
duplicate, so concurrent deliveries on several processes or machines collide in the database
rather than in a check-then-insert race.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from connector.store.db import Database
from connector.store.models import InboundEvent


def store_event(
    db: Database,
    source: str,
    delivery_id: str,
    content_hash: str,
    event_type: str,
    subject_id: str | None,
    payload: dict[str, Any],
) -> int | None:
    """Insert and commit one event; its id, or None when it was already stored."""
    row = {
        "source": source,
        "delivery_id": delivery_id,
        "content_hash": content_hash,
        "event_type": event_type,
        "subject_id": subject_id,
        "payload": payload,
    }
    for attempt in (1, 2):
        try:
            return _insert(db, row)
        except IntegrityError:
            # Only a collision with a stored delivery is a duplicate; any other violation is a
            # bug and must not be acknowledged as if the event were safe.
            if _already_stored(db, source, delivery_id, content_hash):
                return None
            if attempt == 2:
                raise
            # Otherwise the row we collided with was processed meanwhile (the worker clears
            # its content hash): try once more.
    raise AssertionError("unreachable")


def _insert(db: Database, row: dict[str, Any]) -> int:
    with db.session() as session:
        event = InboundEvent(**row)
        session.add(event)
        session.flush()
        return event.id


def _already_stored(db: Database, source: str, delivery_id: str, content_hash: str) -> bool:
    with db.session() as session:
        found = session.scalar(
            select(InboundEvent.id)
            .where(
                InboundEvent.source == source,
                or_(
                    InboundEvent.delivery_id == delivery_id,
                    InboundEvent.content_hash == content_hash,
                ),
            )
            .limit(1)
        )
        return found is not None
