"""What the connector remembers of each ticket (`TicketState`): the linking signals it last
saw, the unlinks the ticket does not show yet, the unknown Jira key it already noted."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.store.db import Database
from connector.store.models import TicketState


def state_of(session: Session, ticket_id: int) -> TicketState:
    """The ticket's state, created (and added to the session) when first seen."""
    state = session.get(TicketState, ticket_id) or TicketState(ticket_id=ticket_id, signals={})
    session.add(state)
    return state


def pending_unlinks(db: Database) -> list[tuple[int, str]]:
    """(ticket id, Jira key) of every ticket that left a problem and does not show it yet."""
    with db.session() as session:
        rows = session.execute(
            select(TicketState.ticket_id, TicketState.pending_unlink_key)
            .where(TicketState.pending_unlink_key.is_not(None))
            .order_by(TicketState.ticket_id)
        )
        return [(int(ticket_id), str(key)) for ticket_id, key in rows]


def unlink_shown(db: Database, ticket_ids: Iterable[int], key: str) -> None:
    """These tickets now show they left `key` (a newer unlink, of another key, stays)."""
    with db.session() as session:
        session.execute(
            update(TicketState)
            .where(
                TicketState.ticket_id.in_(list(ticket_ids)),
                TicketState.pending_unlink_key == key,
            )
            .values(pending_unlink_key=None)
        )


def noted_unknown_key(db: Database, ticket_id: int) -> str | None:
    with db.session() as session:
        state = session.get(TicketState, ticket_id)
        return state.noted_unknown_key if state else None


def note_unknown_key(db: Database, ticket_id: int, key: str) -> None:
    with db.session() as session:
        state = session.get(TicketState, ticket_id) or TicketState(ticket_id=ticket_id)
        state.noted_unknown_key = key
        session.add(state)
