"""What the suggestion engine keeps: one vector per ticket it has read (`TicketVector`), the
matches it last computed, and the examples it learns from (the linked tickets' vectors).

Vectors are float32 bytes; the text they came from is never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from connector.store.db import Database
from connector.store.models import Link, LinkVia, Problem, ProblemState, TicketVector

#: Links the engine learns from: made by people (agents, rules an admin wrote, an accepted
#: proposal, Jira moving a ticket), not by the engine itself, so it never reinforces its own
#: mistakes.
TAUGHT_BY = tuple(v for v in LinkVia if v is not LinkVia.SUGGESTION)


@dataclass(frozen=True)
class Seen:
    """A ticket as the engine read it."""

    ticket_id: int
    vector: npt.NDArray[np.float32]
    organization_id: int | None
    status: str | None
    created_at: datetime | None
    requester_id: int | None = None


@dataclass(frozen=True)
class Examples:
    """The linked tickets the engine learns from, and a fingerprint that changes with them."""

    vectors: npt.NDArray[np.float32]
    problem_ids: list[int]
    fingerprint: str


def to_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(data, dtype=np.float32)


def remember(session: Session, seen: Iterable[Seen], now: datetime) -> None:
    """Store (or refresh) each ticket's vector and what it is now."""
    for ticket in seen:
        row = session.get(TicketVector, ticket.ticket_id)
        if row is None:
            row = TicketVector(ticket_id=ticket.ticket_id)
            session.add(row)
        row.vector = to_bytes(ticket.vector)
        row.organization_id = ticket.organization_id
        row.requester_id = ticket.requester_id
        row.ticket_status = ticket.status
        row.ticket_created_at = ticket.created_at
        row.seen_at = now


def record_matches(
    session: Session, ticket_id: int, matches: list[dict[str, Any]], now: datetime
) -> None:
    row = session.get(TicketVector, ticket_id)
    if row is not None:
        row.matches = matches
        row.suggested_at = now


def matches_of(session: Session, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's last computed matches (problem id and confidence), best first."""
    row = session.get(TicketVector, ticket_id)
    return list(row.matches or []) if row is not None else []


def example_pairs(session: Session) -> list[tuple[int, int]]:
    """(ticket id, problem id) of every linked ticket the engine may learn from: taught by a
    person, on an open problem with a Jira issue, with a vector."""
    rows = session.execute(
        select(Link.ticket_id, Link.problem_id)
        .join(Problem, Problem.id == Link.problem_id)
        .join(TicketVector, TicketVector.ticket_id == Link.ticket_id)
        .where(
            Link.via.in_(TAUGHT_BY),
            Problem.state == ProblemState.OPEN,
            Problem.jira_key.is_not(None),
            Problem.dormant_at.is_(None),
        )
        .order_by(Link.ticket_id)
    )
    return [(int(t), int(p)) for t, p in rows]


def fingerprint(pairs: Sequence[tuple[int, int]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for ticket_id, problem_id in pairs:
        digest.update(f"{ticket_id}:{problem_id};".encode())
    return digest.hexdigest()


def examples(db: Database) -> Examples:
    """Every example with its vector (read when the fingerprint changed)."""
    with db.session() as session:
        pairs = example_pairs(session)
        vectors = vectors_of(session, [t for t, _ in pairs])
    kept = [(t, p) for t, p in pairs if t in vectors]
    matrix = (
        np.vstack([vectors[t] for t, _ in kept]).astype(np.float32)
        if kept
        else np.zeros((0, 0), dtype=np.float32)
    )
    return Examples(matrix, [p for _, p in kept], fingerprint(kept))


def current_fingerprint(db: Database) -> str:
    with db.session() as session:
        return fingerprint(example_pairs(session))


def vectors_of(session: Session, ticket_ids: Sequence[int]) -> dict[int, npt.NDArray[np.float32]]:
    found: dict[int, npt.NDArray[np.float32]] = {}
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        for ticket_id, data in session.execute(
            select(TicketVector.ticket_id, TicketVector.vector).where(
                TicketVector.ticket_id.in_(chunk)
            )
        ):
            found[int(ticket_id)] = from_bytes(data)
    return found


def unlinked_since(
    session: Session, since: datetime, statuses: Iterable[str], limit: int
) -> list[TicketVector]:
    """The `limit` most recently seen tickets since `since`, open (in `statuses`) and linked to
    no problem, in ticket order."""
    rows = session.scalars(
        select(TicketVector)
        .outerjoin(Link, Link.ticket_id == TicketVector.ticket_id)
        .where(
            Link.ticket_id.is_(None),
            TicketVector.seen_at >= since,
            TicketVector.ticket_status.in_(list(statuses)),
        )
        .order_by(TicketVector.seen_at.desc(), TicketVector.ticket_id.desc())
        .limit(limit)
    )
    return sorted(rows, key=lambda row: row.ticket_id)


def linked_examples_with_teams(session: Session) -> list[tuple[int, str]]:
    """(ticket id, owning team) of every linked ticket with a vector, whatever its problem's
    state: where agents routed tickets before (a proposal's suggested team)."""
    rows = session.execute(
        select(Link.ticket_id, Problem.team)
        .join(Problem, Problem.id == Link.problem_id)
        .join(TicketVector, TicketVector.ticket_id == Link.ticket_id)
        .where(Link.via.in_(TAUGHT_BY))
    )
    return [(int(t), str(team)) for t, team in rows]


def forget_before(db: Database, cutoff: datetime) -> int:
    """Delete the vectors of tickets not linked and not seen since `cutoff` (retention)."""
    with db.session() as session:
        linked = select(Link.ticket_id)
        result = session.execute(
            delete(TicketVector).where(
                and_(TicketVector.seen_at < cutoff, TicketVector.ticket_id.not_in(linked))
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def row_of(session: Session, ticket_id: int) -> TicketVector | None:
    return session.get(TicketVector, ticket_id)


def remembered_ticket_ids(session: Session) -> list[int]:
    """Every ticket with a vector or a link: what `rebuild` reads again."""
    return sorted(
        set(session.scalars(select(Link.ticket_id)))
        | set(session.scalars(select(TicketVector.ticket_id)))
    )


def forget(session: Session, ticket_ids: Iterable[int]) -> None:
    """Delete these tickets' vectors (Zendesk no longer returns them)."""
    ids = list(ticket_ids)
    if ids:
        session.execute(delete(TicketVector).where(TicketVector.ticket_id.in_(ids)))


def mean_since(session: Session, since: datetime, limit: int) -> npt.NDArray[np.float32] | None:
    """The mean vector of the `limit` tickets seen most recently since `since`, linked or not
    (what the window's tickets share); None when there is none."""
    rows = session.scalars(
        select(TicketVector.vector)
        .where(TicketVector.seen_at >= since)
        .order_by(TicketVector.seen_at.desc())
        .limit(limit)
    ).all()
    if not rows:
        return None
    return np.vstack([from_bytes(v) for v in rows]).mean(axis=0).astype(np.float32)
