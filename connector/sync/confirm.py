"""Show the agent what the connector did: the Jira issue field holds the key, and one internal
note with the Jira link. Tickets of one problem share the same update, so they go out in
`update_many` batches of up to 100 rather than one call per ticket.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from connector import urls
from connector.fields import Snapshot
from connector.logs import log_event
from connector.store import links, problems, tickets
from connector.store.models import ProblemState
from connector.sync.mirror import cleared, ticket_update
from connector.sync.promises import reply_promise
from connector.zendesk.models import Comment, TicketUpdate

if TYPE_CHECKING:
    from pydantic import AnyHttpUrl

    from connector.config import Config
    from connector.store.db import Database
    from connector.sync.ports import (
        HasConfig,
        HasSettings,
        HasStore,
        HasZendesk,
        ZendeskPort,
    )

    class ConfirmNeeds(HasStore, HasConfig, HasSettings, HasZendesk, Protocol):
        """What showing links on tickets needs."""

    class UnlinkNeeds(HasStore, HasConfig, HasZendesk, Protocol):
        """What showing unlinks on tickets needs."""


log = logging.getLogger(__name__)


def jira_browse_url(jira_url: AnyHttpUrl | None, key: str) -> str:
    return urls.jira_issue(jira_url, key) or key


def confirm_links(runtime: ConfirmNeeds, problem_id: int) -> int:
    """Write the key and the note to every not-yet-confirmed ticket of a problem."""
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        if not problem.jira_key:
            return 0  # confirmed once the Jira issue exists
        key, team, mirrored = problem.jira_key, problem.team, dict(problem.mirrored or {})
        resolved, outcome = problem.state is ProblemState.RESOLVED, problem.outcome
        ticket_ids = links.unconfirmed_ticket_ids(session, problem_id)
    team_name = runtime.config.teams[team].name or team if team in runtime.config.teams else team
    link = jira_browse_url(runtime.settings.jira_url, key)
    note = (
        f"Linked to Jira issue {key} ({team_name}): {link}\n"
        "The Jira status, the agreed solution and the expected fix date appear on this ticket. "
        + reply_promise(runtime.config, resolved, outcome)
    )
    # A ticket joining late also shows what was already mirrored (status, solution, fix date).
    shown = ticket_update(runtime.config, {}, Snapshot.load(mirrored)) if mirrored else None
    update = TicketUpdate(
        comment=Comment(body=note, public=False),
        custom_fields={**(shown.custom_fields if shown else {}), **_key_field(runtime.config, key)},
        additional_tags=shown.additional_tags if shown else [],
        remove_tags=shown.remove_tags if shown else [],
    )
    for chunk, _job in runtime.zendesk.update_in_batches(ticket_ids, update):
        links.mark_confirmed(runtime.db, problem_id, chunk)
        log_event(log, "zendesk.links.confirmed", problem=key, tickets=len(chunk))
    return len(ticket_ids)


def confirm_unlinks(runtime: UnlinkNeeds) -> int:
    """Clear the key and everything mirrored from the issue (status, solution, fix date and
    their tags), and leave one note on tickets that left their problem."""
    pending = tickets.pending_unlinks(runtime.db)
    by_key: dict[str, list[int]] = {}
    for ticket_id, key in pending:
        by_key.setdefault(key, []).append(ticket_id)
    mirrored_fields, mirrored_tags = cleared(runtime.config)
    for key, ticket_ids in by_key.items():
        note = (
            f"Unlinked from Jira issue {key}: this ticket no longer follows that problem, and "
            "its Jira status, solution and expected fix were cleared."
        )
        update = TicketUpdate(
            comment=Comment(body=note, public=False),
            custom_fields={**mirrored_fields, **_key_field(runtime.config, None)},
            remove_tags=mirrored_tags,
        )
        for chunk, _job in runtime.zendesk.update_in_batches(ticket_ids, update):
            tickets.unlink_shown(runtime.db, chunk, key)
    return len(pending)


def note_unknown_keys(
    db: Database, zendesk: ZendeskPort, config: Config, unknown: dict[int, str]
) -> None:
    """One internal note per ticket and pasted key that the connector cannot follow."""
    for ticket_id, key in unknown.items():
        if tickets.noted_unknown_key(db, ticket_id) == key:
            continue
        projects = ", ".join(t.jira_project for t in config.teams.values())
        note = (
            f"The Jira issue field holds {key}, which the connector cannot follow: it does not "
            f"exist in Jira or is not in a configured team's project ({projects})."
        )
        zendesk.update_ticket(ticket_id, TicketUpdate(comment=Comment(body=note)))
        tickets.note_unknown_key(db, ticket_id, key)
        log_event(log, "zendesk.unknown_key.noted", ticket_id=ticket_id, key=key)


def _key_field(config: Config, key: str | None) -> dict[int, str | None]:
    field_id = config.zendesk.fields.jira_issue
    return {field_id: key} if field_id is not None else {}
