"""What agents asked in the Zendesk sidebar app, applied by the worker through the same path
as the ticket fields (events of source `app`, stored by the web tier).

- `app.access`: may this agent see this ticket? Zendesk decides from the agent (role, active,
  `ticket_restriction`, and for `groups` their group memberships) and the ticket (assignee,
  group, organisation); the answer is stored for the web tier to read. A restriction the
  connector does not know is a refusal (fail closed).
- `app.action`: link, move, unlink or create. Access is checked again with Zendesk first (the
  web tier's stored answer may be minutes old). The agent's choice is written where an agent
  would write it, the ticket's *Jira issue* field (as the connector's API user), and the ticket
  read back is evaluated by `linking.evaluate` with the agent as the actor: the same decision,
  audit and refresh as for a field the agent typed, so the timeline names the agent. Creating
  first makes the problem of cause `app:<ticket>` and its Jira issue in the chosen team's
  project, then links as above.
The action's row says how it ended, in words the agent reads in the sidebar.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connector.errors import NotFoundError, PermanentError, TransientError
from connector.logs import log_event
from connector.store import links, names, problems
from connector.store import sidebar as app_rows
from connector.store.models import AppActionState, LinkVia, ProblemState
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.linking import Outcome, evaluate
from connector.sync.problems import Cause, create_jira_issue, ensure_problem
from connector.sync.refresh import refresh_problems
from connector.zendesk.models import Ticket, TicketUpdate, User

if TYPE_CHECKING:
    from connector.store.models import AppAction, InboundEvent
    from connector.sync.ports import Services

log = logging.getLogger(__name__)
AGENT_ROLES = ("agent", "admin")


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str


def may_see(user: User, ticket: Ticket, group_ids: Collection[int] = ()) -> Access:
    """Zendesk's visibility rules for a ticket, from the agent's user record (and, for a
    `groups` restriction, the agent's groups)."""
    if not user.active or user.suspended:
        return Access(False, "the user is not active")
    if user.role not in AGENT_ROLES:
        return Access(False, "only agents use the sidebar")
    if user.role == "admin" or user.ticket_restriction is None:
        return Access(True, "may see all tickets")
    if user.ticket_restriction == "assigned":
        return Access(ticket.assignee_id == user.id, "restricted to tickets assigned to them")
    if user.ticket_restriction == "organization":
        same = user.organization_id is not None and ticket.organization_id == user.organization_id
        return Access(same, "restricted to their organization's tickets")
    if user.ticket_restriction == "groups":
        mine = ticket.assignee_id == user.id or ticket.group_id in group_ids
        return Access(mine, "restricted to their groups' tickets")
    return Access(False, f"restricted by {user.ticket_restriction!r}: not known, so refused")


def handle(services: Services, batch: list[InboundEvent]) -> None:
    for event in batch:
        payload = event.payload or {}
        if event.event_type == "app.access":
            check_access(services, int(payload["user_id"]), int(payload["ticket_id"]))
        elif event.event_type == "app.action":
            apply_action(services, int(payload["action_id"]))
        else:
            log_event(log, "app.event_ignored", type=event.event_type)


def check_access(services: Services, user_id: int, ticket_id: int) -> tuple[Access, Ticket | None]:
    try:
        user: User | None = services.zendesk.get_user(user_id)
        ticket: Ticket | None = services.zendesk.get_ticket(ticket_id)
    except NotFoundError:  # a deleted user or ticket: nothing to show, nothing to do
        user, ticket = None, None
    if user is not None:
        names.remember(services.db, {user.id: user.name}, {}, {user.id: user.role or ""})
    groups: list[int] = []
    if user is not None and ticket is not None and user.ticket_restriction == "groups":
        groups = services.zendesk.group_ids_of(user.id)
    if user is None or ticket is None:
        access = Access(False, "no such user or ticket")
    else:
        access = may_see(user, ticket, groups)
    with services.db.session() as session:
        app_rows.record_access(
            session, user_id, ticket_id, access.allowed, access.reason, services.clock.now()
        )
    log_event(
        log, "app.access_checked", user_id=user_id, ticket_id=ticket_id, allowed=access.allowed
    )
    return access, ticket


def apply_action(services: Services, action_id: int) -> None:
    with services.db.session() as session:
        action = app_rows.action(session, action_id)
        if action is None or action.state is not AppActionState.QUEUED:
            return  # applied already (a repeated event)
    try:
        state, message = _apply(services, action)
    except TransientError:
        raise  # the event waits and comes back
    except PermanentError as exc:
        state, message = AppActionState.FAILED, f"Zendesk or Jira refused it: {exc}"
    with services.db.session() as session:
        app_rows.finish_action(session, action_id, state, message, services.clock.now())
    log_event(
        log,
        "app.action_applied",
        action=action.kind,
        ticket_id=action.ticket_id,
        user_id=action.user_id,
        state=state.value,
    )


def _apply(services: Services, action: AppAction) -> tuple[AppActionState, str]:
    access, ticket = check_access(services, action.user_id, action.ticket_id)
    if not access.allowed or ticket is None:
        return AppActionState.REFUSED, "You cannot see this ticket, so nothing was changed."
    field = services.config.zendesk.fields.jira_issue
    if field is None:
        return AppActionState.FAILED, "The Jira issue field is not installed (connector install)."
    with services.db.session() as session:
        link = links.of_ticket(session, ticket.id)
        current = problems.find(session, link.problem_id) if link else None
        current_key = current.jira_key if current else None
        via = link.via if link else None
    if action.kind == "unlink":
        if link is None:
            return AppActionState.DONE, "This ticket was not linked."
        if via in (LinkVia.INCIDENT, LinkVia.PROBLEM_TICKET):
            return AppActionState.REFUSED, (
                "This ticket follows its problem ticket: change its Linked problem in Zendesk."
            )
        return _write_and_link(
            services, action, ticket, field, None, f"Unlinked from {current_key}."
        )
    if action.kind == "create":
        key = _create_problem(services, action, ticket)
        return _write_and_link(
            services, action, ticket, field, key, f"Created {key} and linked this ticket."
        )
    with services.db.session() as session:
        target = problems.find(session, action.problem_id or 0)
        target_key = target.jira_key if target else None
        target_open = target is not None and target.state is ProblemState.OPEN
    if not target_open or target_key is None:
        return AppActionState.REFUSED, "That problem is not open in Jira any more."
    if current_key == target_key:
        return AppActionState.DONE, f"Already linked to {target_key}."
    verb = "Moved to" if link is not None else "Linked to"
    return _write_and_link(services, action, ticket, field, target_key, f"{verb} {target_key}.")


def _create_problem(services: Services, action: AppAction, ticket: Ticket) -> str:
    team = action.team or ""
    if team not in services.config.teams:
        raise PermanentError(f"no team {team!r} in the configuration")
    cause = Cause(f"app:{ticket.id}", team, ticket.subject or "Problem reported in Zendesk")
    with services.db.session() as session:
        problem_id = ensure_problem(session, cause).id
    create_jira_issue(services, problem_id)
    with services.db.session() as session:
        key = problems.get(session, problem_id).jira_key
    if key is None:  # another worker holds the creation claim: come back when it is done
        raise TransientError("the problem's Jira issue is being created")
    return key


def _write_and_link(
    services: Services,
    action: AppAction,
    ticket: Ticket,
    field: int,
    key: str | None,
    done: str,
) -> tuple[AppActionState, str]:
    update = TicketUpdate(custom_fields={field: key})
    known = services.config.zendesk.fields.known_problem
    if known is not None:  # one signal only: the key the agent chose (or none)
        update.custom_fields[known] = None
    outcome = Outcome()
    # First the ticket as it is now, as its next webhook would: the signals the core compares
    # with then include the key the connector wrote to confirm a link (its own writes come
    # back as webhooks it skips), so clearing that key reads as the agent's "not this problem".
    with services.db.session() as session:
        evaluate(session, services, ticket, outcome)
    written = services.zendesk.update_ticket(ticket.id, update)
    with services.db.session() as session:
        evaluate(session, services, written, outcome, actor=action.user_id)
    refresh_problems(services, outcome.touched)
    if outcome.woken:
        sync_known_problem_options(services)
    with services.db.session() as session:
        link = links.of_ticket(session, ticket.id)
        now_key = problems.get(session, link.problem_id).jira_key if link else None
    if now_key != key:
        return AppActionState.REFUSED, "Zendesk keeps this ticket on another problem (a rule)."
    return AppActionState.DONE, done
