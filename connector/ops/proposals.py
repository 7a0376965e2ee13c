"""Proposed problems (emerging causes) for admins: list them, accept one (the worker creates the
Jira issue and links the tickets), or dismiss it. The dashboard, `/api/proposals` and
`connector problems` share these."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connector import urls
from connector.logs import log_event
from connector.store import links, names
from connector.store import proposals as stored
from connector.store import suggestions as suggestion_rows
from connector.store.models import Problem, ProblemState, ProposalState, utcnow

if TYPE_CHECKING:
    from connector.sync.ports import CoreContext

log = logging.getLogger(__name__)
SUMMARY_LIMIT = 255


class ProposalNotFound(LookupError):
    pass


class ProposalDecided(ValueError):
    """Accepted or dismissed already: nothing changes."""


class BadDecision(ValueError):
    """An unknown team or an empty summary: nothing changes."""


@dataclass(frozen=True)
class ProposedTicket:
    ticket_id: int
    organization: str | None
    linked: bool
    url: str | None = None


@dataclass(frozen=True)
class AlreadyFiled:
    """An open problem most of a proposal's suggested tickets point to: perhaps no new cause."""

    problem_id: int
    key: str | None
    summary: str
    tickets: int  # how many of the proposal's tickets have it as their suggestion


@dataclass(frozen=True)
class ProposalView:
    id: int
    state: str
    tickets: list[ProposedTicket]
    organizations: int
    suggested_team: str | None
    team: str | None
    summary: str | None
    decided_by: str | None
    problem_key: str | None
    created_at: datetime
    updated_at: datetime
    already_filed: AlreadyFiled | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "tickets": [
                {
                    "id": t.ticket_id,
                    "organization": t.organization,
                    "linked": t.linked,
                    "url": t.url,
                }
                for t in self.tickets
            ],
            "ticket_count": len(self.tickets),
            "organizations": self.organizations,
            "suggested_team": self.suggested_team,
            "team": self.team,
            "summary": self.summary,
            "decided_by": self.decided_by,
            "problem_key": self.problem_key,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "already_filed": (
                {
                    "problem_id": self.already_filed.problem_id,
                    "jira_key": self.already_filed.key,
                    "summary": self.already_filed.summary,
                    "tickets": self.already_filed.tickets,
                }
                if self.already_filed
                else None
            ),
        }


def list_proposals(
    runtime: CoreContext, states: tuple[ProposalState, ...] = (ProposalState.OPEN,)
) -> list[ProposalView]:
    minimum = runtime.config.suggestions.min_confidence
    with runtime.db.session() as session:
        found = stored.listed(session, states)
        ticket_ids = [t.ticket_id for p in found for t in p.tickets]
        linked = {link.ticket_id for link in links.of_tickets(session, ticket_ids)}
        org_ids = {t.organization_id for p in found for t in p.tickets if t.organization_id}
        org_names = names.lookup(session, [], org_ids).organizations
        views = []
        for p in found:
            problem = session.get(Problem, p.problem_id) if p.problem_id else None
            tickets = [
                ProposedTicket(
                    t.ticket_id,
                    org_names.get(t.organization_id) if t.organization_id else None,
                    t.ticket_id in linked,
                    urls.zendesk_ticket(runtime.settings.zendesk_url, t.ticket_id),
                )
                for t in sorted(p.tickets, key=lambda t: t.ticket_id)
            ]
            views.append(
                ProposalView(
                    p.id,
                    p.state.value,
                    tickets,
                    len({t.organization_id for t in p.tickets if t.organization_id}),
                    p.suggested_team,
                    p.team,
                    p.summary,
                    p.decided_by,
                    problem.jira_key if problem else None,
                    p.created_at,
                    p.updated_at,
                    _already_filed(session, [t.ticket_id for t in p.tickets], minimum),
                )
            )
        return views


def _already_filed(session: Any, ticket_ids: list[int], minimum: float) -> AlreadyFiled | None:
    """The open problem suggested (from `minimum`) for the most of these tickets, when that is
    at least a third of them."""
    votes: Counter[int] = Counter()
    for ticket_id in ticket_ids:
        matches = suggestion_rows.matches_of(session, ticket_id)
        if matches and float(matches[0]["confidence"]) >= minimum:
            votes[int(matches[0]["problem_id"])] += 1
    for problem_id, count in votes.most_common():
        problem = session.get(Problem, problem_id)
        if count * 3 < len(ticket_ids):
            return None
        if problem is not None and problem.state is ProblemState.OPEN and problem.jira_key:
            return AlreadyFiled(problem_id, problem.jira_key, problem.summary, count)
    return None


def accept(
    runtime: CoreContext,
    proposal_id: int,
    team: str | None,
    summary: str,
    actor: str,
    enqueue: bool = True,
) -> str:
    """Accept: the worker creates the problem in `team` (the suggested one when None) and
    links the tickets. Returns the team."""
    summary = " ".join(summary.split())
    if not summary:
        raise BadDecision("a summary is required: it becomes the Jira issue's summary")
    if len(summary) > SUMMARY_LIMIT:
        raise BadDecision(f"the summary is longer than {SUMMARY_LIMIT} characters")
    with runtime.db.session() as session:
        proposal = _open(session, proposal_id)
        chosen = team or proposal.suggested_team
        known = ", ".join(sorted(runtime.config.teams))
        if chosen is None:
            raise BadDecision(f"choose the owning team: none was suggested (known: {known})")
        if chosen not in runtime.config.teams:
            raise BadDecision(f"unknown team '{chosen}' (known: {known})")
        proposal.state = ProposalState.ACCEPTED
        proposal.team, proposal.summary = chosen, summary
        proposal.decided_by = actor
        proposal.decided_at = _now()
    log_event(
        log, "suggestions.proposal.accepted", proposal_id=proposal_id, team=chosen, actor=actor
    )
    if enqueue:  # the web tier: a worker applies it (the CLI applies it itself)
        runtime.scheduler.apply_proposals()
    return chosen


def dismiss(runtime: CoreContext, proposal_id: int, actor: str) -> None:
    """Dismiss: its tickets are never proposed again."""
    with runtime.db.session() as session:
        proposal = _open(session, proposal_id)
        proposal.state = ProposalState.DISMISSED
        proposal.decided_by = actor
        proposal.decided_at = _now()
    log_event(log, "suggestions.proposal.dismissed", proposal_id=proposal_id, actor=actor)


def _open(session: Any, proposal_id: int) -> Any:
    proposal = stored.get(session, proposal_id)
    if proposal is None:
        raise ProposalNotFound(proposal_id)
    if proposal.state is not ProposalState.OPEN:
        raise ProposalDecided(f"proposal {proposal_id} is {proposal.state.value} already")
    return proposal


def _now() -> datetime:
    return utcnow()
