"""Accepted proposals become problems: the Jira issue is created with the admin's summary (no
customer text unless `include_personal_data`), the proposal's tickets still unlinked show it in
*Known problem* and are linked (`via proposal`, by the admin who accepted), and the problem is
brought up to date like any other. Each step is idempotent: a crash half-way is finished by the
next run (the proposal stays `accepted` until its tickets are linked)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store import proposals as stored_proposals
from connector.store import suggestions as stored_vectors
from connector.store import tickets as ticket_states
from connector.store.models import LinkVia, ProposalState
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.problems import Cause, create_jira_issue, ensure_problem
from connector.sync.refresh import refresh_problems
from connector.sync.signals import known_problem_value
from connector.zendesk.models import TicketUpdate

if TYPE_CHECKING:
    from connector.sync.ports import Services

log = logging.getLogger(__name__)


def proposal_cause(proposal_id: int) -> str:
    return f"proposal:{proposal_id}"


def apply_accepted(runtime: Services) -> list[int]:
    """Turn every accepted proposal into a linked problem; the problem ids."""
    with runtime.db.session() as session:
        accepted = [
            (p.id, p.team or "", p.summary or "", p.decided_by or "admin")
            for p in stored_proposals.listed(session, [ProposalState.ACCEPTED])
        ]
    done = []
    for proposal_id, team, summary, actor in accepted:
        applied = _apply(runtime, proposal_id, team, summary, actor)
        if applied is not None:
            done.append(applied)
    return done


def _apply(runtime: Services, proposal_id: int, team: str, summary: str, actor: str) -> int | None:
    with runtime.db.session() as session:
        problem = ensure_problem(session, Cause(proposal_cause(proposal_id), team, summary))
        problem_id = problem.id
    create_jira_issue(runtime, problem_id)
    with runtime.db.session() as session:
        tracked = problems.get(session, problem_id).jira_key is not None
    if not tracked:
        # Another process holds the creation claim: without the key there is no Known problem
        # option to set. The proposal stays accepted; the next run (or reconcile) finishes it.
        log_event(log, "suggestions.proposal.waiting_for_issue", proposal_id=proposal_id)
        return None
    sync_known_problem_options(runtime)  # the new problem in Known problem, to set it below
    with runtime.db.session() as session:
        proposal = stored_proposals.get(session, proposal_id)
        assert proposal is not None
        members = [(t.ticket_id, t.organization_id) for t in proposal.tickets]
        linked = {link.ticket_id for link in links.of_tickets(session, [t for t, _ in members])}
    unlinked = [(t, org) for t, org in members if t not in linked]
    field_id = runtime.config.zendesk.fields.known_problem
    if unlinked and field_id is not None:
        update = TicketUpdate(custom_fields={field_id: known_problem_value(problem_id)})
        runtime.zendesk.update_all([t for t, _ in unlinked], update)
    with runtime.db.session() as session:
        for ticket_id, organization_id in unlinked:
            if links.of_ticket(session, ticket_id) is not None:
                continue  # an agent linked it meanwhile
            link = links.create(session, ticket_id, problem_id, LinkVia.PROPOSAL, actor)
            link.organization_id = organization_id
            seen = stored_vectors.row_of(session, ticket_id)
            if seen is not None:
                link.requester_id = seen.requester_id
                link.ticket_status = seen.ticket_status
                link.ticket_created_at = seen.ticket_created_at
            state = ticket_states.state_of(session, ticket_id)
            state.signals = {**(state.signals or {}), "known_problem": problem_id}
            audit.record(
                session,
                problem_id,
                "link",
                ticket_id=ticket_id,
                actor=actor,
                detail={"via": LinkVia.PROPOSAL.value},
            )
        proposal = stored_proposals.get(session, proposal_id)
        assert proposal is not None
        proposal.state = ProposalState.APPLIED
        proposal.problem_id = problem_id
    log_event(
        log,
        "suggestions.proposal.applied",
        proposal_id=proposal_id,
        problem_id=problem_id,
        tickets=len(unlinked),
    )
    refresh_problems(runtime, [problem_id])
    return problem_id
