"""Link, move and unlink tickets from what they say now (the ticket read from Zendesk is the
truth; the webhook that woke us is only a hint, so duplicates and reordering do not matter).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from connector.errors import NotFoundError
from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store import tickets as ticket_states
from connector.store.models import LinkVia, Problem
from connector.sync.decide import Target, decide
from connector.sync.problems import Cause, ensure_problem
from connector.sync.signals import read_signals, suggestion_noted_tag
from connector.zendesk.models import Ticket

if TYPE_CHECKING:
    from connector.store.db import Database, Session
    from connector.sync.ports import HasClock, HasConfig, HasJira, HasStore, HasZendesk

    class LinkingNeeds(HasStore, HasConfig, HasClock, HasZendesk, HasJira, Protocol):
        """What linking tickets needs (Zendesk for problem tickets, Jira for pasted keys)."""


log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one pass changed: problems to refresh, tickets needing an unknown-key note."""

    touched: set[int] = field(default_factory=set)
    unknown_keys: dict[int, str] = field(default_factory=dict)
    woken: set[int] = field(default_factory=set)  # dormant problems a ticket linked to again
    unexplained: set[int] = field(default_factory=set)  # unlinked tickets no problem explains


def evaluate_tickets(
    runtime: LinkingNeeds, tickets: list[Ticket], actors: dict[int, int | None] | None = None
) -> Outcome:
    outcome = Outcome()
    for ticket in tickets:
        with runtime.db.session() as session:
            actor = (actors or {}).get(ticket.id)
            evaluate(session, runtime, ticket, outcome, actor=actor)
    return outcome


def unlink_missing(db: Database, ticket_ids: list[int], outcome: Outcome) -> None:
    """Tickets Zendesk no longer returns (deleted) leave their problem."""
    with db.session() as session:
        for link in links.of_tickets(session, ticket_ids):
            outcome.touched.add(link.problem_id)
            _audit(session, link.problem_id, "unlink", link.ticket_id, "zendesk", "ticket deleted")
            links.remove(session, link)


def evaluate(
    session: Session,
    runtime: LinkingNeeds,
    ticket: Ticket,
    outcome: Outcome,
    actor: int | None = None,
    depth: int = 0,
) -> None:
    state = ticket_states.state_of(session, ticket.id)
    link = links.of_ticket(session, ticket.id)
    current = problems.find(session, link.problem_id) if link else None
    signals = read_signals(ticket, runtime.config)
    if (
        link is not None
        and link.via is LinkVia.SUGGESTION
        and (state.signals or {}).get("known_problem") == link.problem_id
        and signals.known_problem is None
        # The auto-link's update landed (its note's tag is there) and an agent undid it: never
        # again. Without the tag Zendesk never applied it: unlinked, and suggested anew.
        and suggestion_noted_tag(link.problem_id) in ticket.tags
    ):
        state.suggestion_opt_out = True
    decision = decide(
        signals,
        state.signals or {},
        link.via if link else None,
        current.jira_key if current else None,
        state.rule_opt_out,
    )
    if decision.target is not None and decision.target.via is LinkVia.RELINK:
        target = current
    else:
        target = _resolve(session, runtime, ticket, decision.target, outcome, depth)
    if target is None and decision.target and decision.target.via is LinkVia.JIRA_FIELD:
        target = current  # an unknown key changes nothing but earns the ticket a note
    who = f"agent:{actor}" if actor else None
    via = decision.target.via if decision.target else None

    if link is not None and (target is None or via is None):
        _audit(session, link.problem_id, "unlink", ticket.id, who, link.via.value)
        outcome.touched.add(link.problem_id)
        if current is not None and current.jira_key and link.confirmed:
            state.pending_unlink_key = current.jira_key
        links.remove(session, link)
        log_event(log, "ticket.unlinked", ticket_id=ticket.id, problem_id=link.problem_id)
    elif target is not None and via is not None:
        if (link is None or link.problem_id != target.id) and problems.wake(
            session, target, ticket.id
        ):
            outcome.woken.add(target.id)
        if link is None:
            link = links.create(session, ticket.id, target.id, via, _by(via, who))
            _audit(session, target.id, "link", ticket.id, link.linked_by, via.value)
            log_event(log, "ticket.linked", ticket_id=ticket.id, problem_id=target.id, via=via)
        elif link.problem_id != target.id:
            _audit(session, link.problem_id, "move.out", ticket.id, who, f"to problem {target.id}")
            _audit(session, target.id, "move", ticket.id, who, via.value)
            outcome.touched.add(link.problem_id)
            link.problem_id, link.via, link.linked_by = target.id, via, _by(via, who)
            link.confirmed, link.linked_at = False, runtime.clock.now()
            log_event(log, "ticket.moved", ticket_id=ticket.id, problem_id=target.id)
        if (link.ticket_status, link.organization_id) != (ticket.status, ticket.organization_id):
            outcome.touched.add(target.id)
        link.ticket_status = ticket.status
        link.organization_id = ticket.organization_id
        link.requester_id = ticket.requester_id
        if ticket.created_at is not None and link.ticket_created_at != ticket.created_at:
            link.ticket_created_at = ticket.created_at
        outcome.touched.add(target.id)
        state.pending_unlink_key = None
    state.signals = signals.as_dict()
    state.rule_opt_out = decision.rule_opt_out
    state.zendesk_updated_at = ticket.updated_at


def _resolve(
    session: Session,
    runtime: LinkingNeeds,
    ticket: Ticket,
    target: Target | None,
    outcome: Outcome,
    depth: int,
) -> Problem | None:
    if target is None:
        return None
    via, value = target.via, target.value
    if via is LinkVia.PROBLEM_TICKET:
        cause = Cause(f"zendesk:{ticket.id}", value, ticket.subject or "", ticket.id)
        return ensure_problem(session, cause)
    if via is LinkVia.INCIDENT:
        return _problem_of_ticket(session, runtime, int(value), outcome, depth)
    if via is LinkVia.KNOWN_PROBLEM:
        return problems.find(session, int(value))
    if via is LinkVia.JIRA_FIELD:
        return _adopt(session, runtime, ticket, str(value), outcome)
    team, _, name = str(value).partition(":")
    return ensure_problem(session, Cause(f"rule:{team}:{name.lower()}", team, name))


def _problem_of_ticket(
    session: Session, runtime: LinkingNeeds, problem_ticket_id: int, outcome: Outcome, depth: int
) -> Problem | None:
    found = problems.by_problem_ticket(session, problem_ticket_id)
    if found is not None or depth > 0:
        return found
    # The incident's event came before its problem ticket's: evaluate that ticket first.
    try:
        problem_ticket = runtime.zendesk.get_ticket(problem_ticket_id)
    except NotFoundError:
        return None
    evaluate(session, runtime, problem_ticket, outcome, depth=depth + 1)
    return problems.by_problem_ticket(session, problem_ticket_id)


def _adopt(
    session: Session, runtime: LinkingNeeds, ticket: Ticket, key: str, outcome: Outcome
) -> Problem | None:
    """A pasted Jira key: the problem we track for it, or the issue adopted as a new problem."""
    known = problems.by_jira_key(session, key)
    if known is not None:
        return known
    try:
        issue = runtime.jira.get_issue(key)
    except NotFoundError:
        outcome.unknown_keys[ticket.id] = key
        return None
    by_id = problems.by_issue_id(session, issue.id)
    if by_id is not None:  # the key was an old one: the issue moved project
        return by_id
    team = runtime.config.team_for_project(issue.project)
    if team is None:
        outcome.unknown_keys[ticket.id] = key
        return None
    cause = Cause(f"jira:{issue.id}", team, issue.summary, None, issue.id, issue.key)
    return ensure_problem(session, cause)


def _by(via: LinkVia, who: str | None) -> str:
    return "rule" if via is LinkVia.RULE else (who or "zendesk")


def _audit(
    session: Session, problem_id: int, action: str, ticket_id: int, actor: str | None, how: str
) -> None:
    audit.record(session, problem_id, action, ticket_id=ticket_id, actor=actor, detail={"via": how})
