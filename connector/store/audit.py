"""The audit timeline of a problem: one entry per thing that happened to it, with who and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connector.store.models import AuditEntry


def record(
    session: Session,
    problem_id: int,
    action: str,
    *,
    ticket_id: int | None = None,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the unit of work (it is written when the session commits)."""
    session.add(
        AuditEntry(
            problem_id=problem_id, action=action, ticket_id=ticket_id, actor=actor, detail=detail
        )
    )
