"""Suggestions on tickets: after a batch of tickets is linked (or not), the unlinked ones get the
open problems they are most alike to.

For each new or changed ticket the engine reads the subject and first comment (`description`),
stores their vector, and for an open, unlinked ticket ranks the open problems. Agents see:
- the *Suggested problem* field, set to the best match from `suggestions.min_confidence`
  (cleared or changed by an agent: that problem is dismissed for this ticket);
- one internal note per ticket and problem (a `zdjira_suggestion_noted_<id>` tag, added in the
  same update, says it was left), with the top three, their ticket counts, statuses and agreed
  solutions (Jira text, made inert), and how to accept or dismiss;
- from `suggestions.auto_link_confidence` (off by default), the link itself: *Known problem*
  set in the same update, the link recorded once Zendesk accepted it (`via suggestion`, the
  confidence in the timeline). An agent who clears *Known problem* unlinks the ticket and opts it
  out of auto-linking.
Tickets whose updates agree share one `update_many` job.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store import suggestions as stored
from connector.store import tickets as ticket_states
from connector.store.models import LinkVia, Problem, ProblemState, TicketVector
from connector.sync.known_problems import SUGGESTED_PREFIX
from connector.sync.signals import (
    OPEN_STATUSES,
    SUGGESTION_NOTED_PREFIX,
    known_problem_value,
    suggestion_noted_tag,
)
from connector.zendesk.models import Comment, Ticket, TicketUpdate
from connector.zendesk.text import inert

if TYPE_CHECKING:
    from connector.config import Config
    from connector.store.db import Session
    from connector.sync.linking import Outcome
    from connector.sync.ports import (
        HasClock,
        HasConfig,
        HasStore,
        HasSuggestionEngine,
        HasZendesk,
        ProblemMatch,
    )

    class SuggestNeeds(HasStore, HasConfig, HasClock, HasZendesk, HasSuggestionEngine, Protocol):
        """What suggesting problems on tickets needs."""


log = logging.getLogger(__name__)
NOTED_TAG_PREFIX = SUGGESTION_NOTED_PREFIX
TOP = 3
SUGGESTION_NOTE = "This ticket looks like these open problems:"


def suggested_value(problem_id: int) -> str:
    return f"{SUGGESTED_PREFIX}{problem_id}"


def noted_tag(problem_id: int) -> str:
    return suggestion_noted_tag(problem_id)


def ticket_text(ticket: Ticket) -> str:
    """What the engine reads of a ticket: its subject and first comment, nothing else."""
    return "\n".join(part.strip() for part in (ticket.subject, ticket.description) if part)


@dataclass
class Plan:
    """What one ticket gets: an update (or none) and, for an auto-link, the link to record."""

    ticket: Ticket
    update: TicketUpdate | None = None
    suggested: int | None = None  # the problem put in the Suggested problem field
    dismissed: set[int] = field(default_factory=set)
    auto_link: ProblemMatch | None = None


def suggest(runtime: SuggestNeeds, tickets: list[Ticket], outcome: Outcome) -> int:
    """Suggest problems on the unlinked open tickets among `tickets`; how many got an update."""
    settings = runtime.config.suggestions
    readable = [t for t in tickets if ticket_text(t)]
    if not settings.enabled or not readable:
        return 0
    now = runtime.clock.now()
    engine = runtime.suggestion_engine
    vectors = engine.encode([ticket_text(t) for t in readable])
    with runtime.db.session() as session:
        stored.remember(
            session,
            (
                stored.Seen(t.id, v, t.organization_id, t.status, t.created_at, t.requester_id)
                for t, v in zip(readable, vectors, strict=True)
            ),
            now,
        )
    with runtime.db.session() as session:
        linked = {link.ticket_id for link in links.of_tickets(session, [t.id for t in readable])}
    _clear_on_linked(runtime, [t for t in readable if t.id in linked])
    chosen = [
        (t, v)
        for t, v in zip(readable, vectors, strict=True)
        if t.id not in linked and t.status in OPEN_STATUSES and not _is_problem_ticket(t)
    ]
    suggester = engine.suggester(runtime.db)
    if suggester is None or not chosen:
        outcome.unexplained |= {t.id for t, _ in chosen}
        return 0
    ranked = suggester.rank(_stack([v for _, v in chosen]), top=TOP)
    plans: list[Plan] = []
    with runtime.db.session() as session:
        info = _problems(session, {m.problem_id for row in ranked for m in row})
        for (ticket, _), matches in zip(chosen, ranked, strict=True):
            matches = [m for m in matches if m.problem_id in info]
            stored.record_matches(session, ticket.id, _as_json(matches), now)
            row = stored.row_of(session, ticket.id)
            opted_out = ticket_states.state_of(session, ticket.id).suggestion_opt_out
            plans.append(_plan(runtime.config, ticket, matches, info, row, opted_out))
            if not matches or matches[0].confidence < settings.min_confidence:
                outcome.unexplained.add(ticket.id)
    _send(runtime, [p for p in plans if p.update is not None])
    _record(runtime, plans, outcome)
    sent = sum(1 for p in plans if p.update is not None)
    if sent:
        log_event(
            log,
            "suggestions.sent",
            tickets=sent,
            auto_linked=sum(1 for p in plans if p.auto_link is not None),
        )
    return sent


def _plan(
    config: Config,
    ticket: Ticket,
    matches: Sequence[ProblemMatch],
    info: dict[int, Problem],
    row: TicketVector | None,
    opted_out: bool,
) -> Plan:
    settings = config.suggestions
    fields = config.zendesk.fields
    plan = Plan(ticket, dismissed=set(row.dismissed or []) if row else set())
    shown = ticket.field(fields.suggested_problem)
    last = row.suggested_problem_id if row else None
    # The agent cleared or changed the field the connector set (and the update that set it has
    # landed: its note's tag is on the ticket): that problem is dismissed for this ticket.
    if last is not None and noted_tag(last) in ticket.tags and shown != suggested_value(last):
        plan.dismissed.add(last)
    offered = [m for m in matches if m.problem_id not in plan.dismissed]
    best = offered[0] if offered and offered[0].confidence >= settings.min_confidence else None
    plan.suggested = best.problem_id if best else None
    update = TicketUpdate()
    wanted = suggested_value(best.problem_id) if best else None
    ours = wanted is not None or str(shown or "").startswith(SUGGESTED_PREFIX)
    if fields.suggested_problem is not None and shown != wanted and ours:
        update.custom_fields[fields.suggested_problem] = wanted
    auto = settings.auto_link_confidence
    if (
        best is not None
        and auto is not None
        and best.confidence >= auto
        and not opted_out
        and fields.known_problem is not None
    ):
        plan.auto_link = best
        update.custom_fields[fields.known_problem] = known_problem_value(best.problem_id)
    if best is not None and noted_tag(best.problem_id) not in ticket.tags:
        body = note_body(offered, info, linked=plan.auto_link)
        update.comment = Comment(body=body, public=False)
        update.additional_tags = [noted_tag(best.problem_id)]
    if update.custom_fields or update.comment:
        plan.update = update
    return plan


def note_body(
    matches: Sequence[ProblemMatch], info: dict[int, Problem], linked: ProblemMatch | None
) -> str:
    """The internal note: the top matches, and how to accept or dismiss (or undo)."""
    lines = []
    if linked is not None:
        problem = info[linked.problem_id]
        lines.append(
            f"Linked automatically to {problem.jira_key} ({_percent(linked.confidence)} alike "
            "to its tickets). Wrong? Clear *Known problem* to unlink: the connector will not "
            "link this ticket by itself again."
        )
        lines.append("")
    lines.append(SUGGESTION_NOTE)
    for number, match in enumerate(matches, start=1):
        problem = info[match.problem_id]
        tickets = problem.ticket_count
        parts = [
            f"{number}. {problem.jira_key} {inert(problem.summary)} ({_percent(match.confidence)})",
            f"{tickets} ticket{'s' if tickets != 1 else ''}",
        ]
        if problem.jira_status:
            parts.append(f"status {inert(problem.jira_status)}")
        if problem.solution_text:
            kind = "workaround" if problem.solution_kind == "workaround" else "agreed solution"
            parts.append(f"{kind}: {inert(problem.solution_text)}")
        lines.append(" - ".join(parts))
    lines.append("")
    if linked is None:
        lines.append(
            "To accept, choose it in *Known problem*: the ticket is linked and its customer "
            "gets the fix. To dismiss, clear *Suggested problem*: it is not suggested again "
            "here. Nothing is sent to the customer."
        )
    return "\n".join(lines)


def _clear_on_linked(runtime: SuggestNeeds, tickets: list[Ticket]) -> None:
    """A linked ticket needs no suggestion: its Suggested problem field is cleared."""
    field_id = runtime.config.zendesk.fields.suggested_problem
    if field_id is None:
        return
    shown = [t.id for t in tickets if str(t.field(field_id) or "").startswith(SUGGESTED_PREFIX)]
    if shown:
        runtime.zendesk.update_all(shown, TicketUpdate(custom_fields={field_id: None}))


def _send(runtime: SuggestNeeds, plans: list[Plan]) -> None:
    """One `update_many` per 100 tickets whose updates agree (a storm shares a few jobs)."""
    groups: dict[str, list[int]] = defaultdict(list)
    updates: dict[str, TicketUpdate] = {}
    for plan in plans:
        assert plan.update is not None
        key = json.dumps(plan.update.to_api(), sort_keys=True)
        groups[key].append(plan.ticket.id)
        updates[key] = plan.update
    for key, ticket_ids in groups.items():
        runtime.zendesk.update_all(ticket_ids, updates[key])


def _record(runtime: SuggestNeeds, plans: list[Plan], outcome: Outcome) -> None:
    """Once Zendesk accepted the updates: what each field shows, and the auto-links."""
    with runtime.db.session() as session:
        for plan in plans:
            row = stored.row_of(session, plan.ticket.id)
            if row is not None:
                row.suggested_problem_id = plan.suggested
                row.dismissed = sorted(plan.dismissed) or None
            if plan.auto_link is not None:
                _auto_link(session, runtime, plan.ticket, plan.auto_link, outcome)


def _auto_link(
    session: Session, runtime: SuggestNeeds, ticket: Ticket, match: ProblemMatch, outcome: Outcome
) -> None:
    if links.of_ticket(session, ticket.id) is not None:
        return  # an agent linked it meanwhile
    problem_id = match.problem_id
    link = links.create(session, ticket.id, problem_id, LinkVia.SUGGESTION, "suggestion")
    link.ticket_status = ticket.status
    link.organization_id = ticket.organization_id
    link.requester_id = ticket.requester_id
    link.ticket_created_at = ticket.created_at
    state = ticket_states.state_of(session, ticket.id)
    # The ticket now shows this problem in Known problem, written by the connector: not an
    # agent's fresh choice when the ticket is next read.
    state.signals = {**(state.signals or {}), "known_problem": problem_id}
    audit.record(
        session,
        problem_id,
        "link",
        ticket_id=ticket.id,
        actor="suggestion",
        detail={"via": LinkVia.SUGGESTION.value, "confidence": round(match.confidence, 3)},
    )
    outcome.touched.add(problem_id)
    log_event(
        log,
        "ticket.linked",
        ticket_id=ticket.id,
        problem_id=problem_id,
        via=LinkVia.SUGGESTION,
        confidence=round(match.confidence, 3),
    )


def _problems(session: Session, problem_ids: set[int]) -> dict[int, Problem]:
    """The matched problems an agent can choose (open, with a Jira key)."""
    found = {}
    for problem_id in problem_ids:
        problem = problems.find(session, problem_id)
        if problem is not None and problem.jira_key and problem.state is ProblemState.OPEN:
            found[problem_id] = problem
    return found


def _is_problem_ticket(ticket: Ticket) -> bool:
    return ticket.type == "problem"


def _stack(vectors: list[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    return np.vstack(vectors).astype(np.float32)


def _as_json(matches: Sequence[ProblemMatch]) -> list[dict[str, Any]]:
    return [{"problem_id": m.problem_id, "confidence": round(m.confidence, 4)} for m in matches]


def _percent(confidence: float) -> str:
    """Floored to a multiple of 5: never shown as more certain than it is (95%, not 100%), and
    alike tickets get the same note, so their updates share one `update_many` job."""
    return f"{int(confidence * 20) * 5}%"
