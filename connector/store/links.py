"""Links between tickets and problems (a ticket has at most one), and what they add up to."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connector.store.db import Database
from connector.store.models import Link, LinkVia


@dataclass(frozen=True)
class Counts:
    """What the links of one problem add up to (the impact before customer value)."""

    tickets: int
    open_tickets: int
    organizations: int
    first_linked: datetime | None
    last_linked: datetime | None
    last_report: datetime | None = None  # the newest ticket creation time (link time if unknown)


def of_ticket(session: Session, ticket_id: int) -> Link | None:
    return session.get(Link, ticket_id)


def of_tickets(session: Session, ticket_ids: Iterable[int]) -> list[Link]:
    return list(session.scalars(select(Link).where(Link.ticket_id.in_(list(ticket_ids)))))


def of_problem(session: Session, problem_id: int) -> list[Link]:
    return list(
        session.scalars(select(Link).where(Link.problem_id == problem_id).order_by(Link.ticket_id))
    )


def ticket_ids(session: Session, problem_id: int) -> list[int]:
    """Every ticket linked to the problem, in ticket order."""
    return list(
        session.scalars(
            select(Link.ticket_id).where(Link.problem_id == problem_id).order_by(Link.ticket_id)
        )
    )


def unconfirmed_ticket_ids(session: Session, problem_id: int) -> list[int]:
    """The problem's tickets that do not show their link yet (key field and note)."""
    return list(
        session.scalars(
            select(Link.ticket_id)
            .where(Link.problem_id == problem_id, Link.confirmed.is_(False))
            .order_by(Link.ticket_id)
        )
    )


def mark_confirmed(db: Database, problem_id: int, ticket_ids: Iterable[int]) -> None:
    """These tickets show their link to this problem (one that moved since stays unconfirmed)."""
    with db.session() as session:
        session.execute(
            update(Link)
            .where(Link.ticket_id.in_(list(ticket_ids)), Link.problem_id == problem_id)
            .values(confirmed=True)
        )


def create(session: Session, ticket_id: int, problem_id: int, via: LinkVia, linked_by: str) -> Link:
    link = Link(ticket_id=ticket_id, problem_id=problem_id, via=via, linked_by=linked_by)
    session.add(link)
    return link


def set_status(db: Database, problem_id: int, ticket_ids: Iterable[int], status: str) -> int:
    """The connector itself set these tickets' status (its own changes send no webhook it
    reads): record it, so counts follow Zendesk. How many links changed."""
    ids = list(ticket_ids)
    if not ids:
        return 0
    with db.session() as session:
        result = session.execute(
            update(Link)
            .where(
                Link.problem_id == problem_id,
                Link.ticket_id.in_(ids),
                Link.ticket_status.is_distinct_from(status),
            )
            .values(ticket_status=status)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remove(session: Session, link: Link) -> None:
    session.delete(link)


def organization_ids(session: Session, problem_id: int) -> list[int]:
    """The distinct organisations of the problem's tickets, in id order."""
    found = session.scalars(
        select(Link.organization_id)
        .where(Link.problem_id == problem_id, Link.organization_id.is_not(None))
        .distinct()
    )
    return sorted(int(org) for org in found if org is not None)


def counts(session: Session, problem_id: int, open_statuses: Collection[str]) -> Counts:
    """Tickets, open tickets (status in `open_statuses`), distinct organisations, first and
    last link time."""
    linked = Link.problem_id == problem_id
    tickets, first, last = session.execute(
        select(func.count(), func.min(Link.linked_at), func.max(Link.linked_at)).where(linked)
    ).one()
    open_tickets = session.scalar(
        select(func.count()).where(linked, Link.ticket_status.in_(list(open_statuses)))
    )
    organizations = session.scalar(
        select(func.count(func.distinct(Link.organization_id))).where(
            linked, Link.organization_id.is_not(None)
        )
    )
    last_report = session.scalar(
        select(func.max(func.coalesce(Link.ticket_created_at, Link.linked_at))).where(linked)
    )
    return Counts(
        tickets=int(tickets),
        open_tickets=int(open_tickets or 0),
        organizations=int(organizations or 0),
        first_linked=first,
        last_linked=last,
        last_report=last_report,
    )


def created_since(session: Session, problem_id: int, since: datetime) -> list[datetime]:
    """When the problem's tickets created since `since` were created in Zendesk (a ticket not
    read since it was linked counts by its link time)."""
    created = func.coalesce(Link.ticket_created_at, Link.linked_at)
    return list(
        session.scalars(select(created).where(Link.problem_id == problem_id, created >= since))
    )


def remove_all(session: Session, problem_id: int) -> int:
    """Unlink every ticket of the problem; how many were linked."""
    linked = of_problem(session, problem_id)
    for link in linked:
        session.delete(link)
    return len(linked)
