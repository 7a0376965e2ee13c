"""Proposed problems (emerging causes) and their tickets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from connector.store.models import Proposal, ProposalState, ProposalTicket


def get(session: Session, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id)


def listed(session: Session, states: Sequence[ProposalState]) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.state.in_(list(states)))
            .options(selectinload(Proposal.tickets))
            .order_by(Proposal.id)
        )
    )


def count_open(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Proposal).where(Proposal.state == ProposalState.OPEN)
        )
        or 0
    )


def decided_ticket_ids(session: Session) -> set[int]:
    """Tickets of proposals an admin accepted or dismissed: never proposed again."""
    rows = session.scalars(
        select(ProposalTicket.ticket_id)
        .join(Proposal, Proposal.id == ProposalTicket.proposal_id)
        .where(Proposal.state != ProposalState.OPEN)
    )
    return {int(t) for t in rows}


def merge(
    session: Session,
    tickets: Sequence[tuple[int, int | None]],
    suggested_team: str | None,
    now: datetime,
) -> tuple[Proposal, list[int]]:
    """Put a cluster of (ticket id, organization id) in the open proposal that holds most of its
    tickets, or in a new one; returns it and the tickets it gained."""
    ids = [t for t, _ in tickets]
    holders = session.execute(
        select(ProposalTicket.proposal_id, ProposalTicket.ticket_id)
        .join(Proposal, Proposal.id == ProposalTicket.proposal_id)
        .where(Proposal.state == ProposalState.OPEN, ProposalTicket.ticket_id.in_(ids))
    ).all()
    overlap: dict[int, int] = {}
    for proposal_id, _ in holders:
        overlap[proposal_id] = overlap.get(proposal_id, 0) + 1
    if overlap:
        proposal = session.get(Proposal, max(overlap, key=lambda p: (overlap[p], -p)))
        assert proposal is not None
    else:
        proposal = Proposal(state=ProposalState.OPEN, created_at=now, updated_at=now)
        session.add(proposal)
        session.flush()
    held = {t for _, t in holders}
    gained = []
    for ticket_id, organization_id in tickets:
        if ticket_id in held:
            continue
        session.add(
            ProposalTicket(
                proposal_id=proposal.id,
                ticket_id=ticket_id,
                organization_id=organization_id,
                added_at=now,
            )
        )
        gained.append(ticket_id)
    if suggested_team is not None:
        proposal.suggested_team = suggested_team
    if gained:
        proposal.updated_at = now
    return proposal, gained
