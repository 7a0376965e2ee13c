"""The Known problem dropdown: its options are kept equal to the open problems (and the ones
resolved within the grace period), so agents can link a ticket with one click.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from connector.fields import NO_PROBLEM_OPTION, NO_SUGGESTION_OPTION
from connector.logs import log_event
from connector.store import problems
from connector.store.models import ProblemState
from connector.sync.signals import KNOWN_PROBLEM_PREFIX, known_problem_value

if TYPE_CHECKING:
    from connector.config import Config
    from connector.store.db import Database
    from connector.sync.ports import HasClock, HasConfig, HasStore, HasZendesk

    class DropdownNeeds(HasStore, HasConfig, HasZendesk, HasClock, Protocol):
        """What keeping the Known problem dropdown needs."""

    class RetireNeeds(HasStore, HasConfig, HasClock, Protocol):
        """What retiring empty problems needs."""


log = logging.getLogger(__name__)
OPTION_NAME_LIMIT = 120
RESOLVED_SUFFIX = " (resolved)"
SUGGESTED_PREFIX = "zdjira_suggested_"  # the Suggested problem dropdown's own option values


def desired_options(db: Database, config: Config, now: datetime) -> dict[str, str]:
    """Option value -> option name for every problem that belongs in the dropdown at `now`."""
    cutoff = now - timedelta(hours=config.known_problem_grace_hours)
    with db.session() as session:
        return {
            known_problem_value(p.id): _option_name(p.jira_key, p.summary, p.state)
            for p in problems.for_dropdown(session, resolved_since=cutoff)
        }


def _option_name(key: str | None, summary: str, state: ProblemState) -> str:
    """`FIN-12 Double charge`; a resolved one says so (linking to it replies at once)."""
    suffix = RESOLVED_SUFFIX if state is ProblemState.RESOLVED else ""
    return f"{key} {summary}"[: OPTION_NAME_LIMIT - len(suffix)] + suffix


def retire_empty_problems(runtime: RetireNeeds) -> int:
    """Open problems without a linked ticket for `empty_problem_grace_hours` leave the dropdown
    and the open lists (an audit entry each; Jira is not touched); how many left now."""
    now = runtime.clock.now()
    cutoff = now - timedelta(hours=runtime.config.empty_problem_grace_hours)
    with runtime.db.session() as session:
        retired = [p.jira_key or p.id for p in problems.retire_empty(session, cutoff, now)]
    if retired:
        log_event(log, "problems.dormant", problems=retired)
    return len(retired)


def sync_known_problem_options(runtime: DropdownNeeds) -> tuple[int, int]:
    """Add missing options, rename changed ones, remove stale ones, in Known problem and in
    Suggested problem (open problems only: a resolved one is never suggested); returns the
    Known problem's (added, removed)."""
    wanted = desired_options(runtime.db, runtime.config, runtime.clock.now())
    fields = runtime.config.zendesk.fields
    if fields.suggested_problem is not None and runtime.config.suggestions.enabled:
        suggestable = {
            value.replace(KNOWN_PROBLEM_PREFIX, SUGGESTED_PREFIX, 1): name
            for value, name in wanted.items()
            if not name.endswith(RESOLVED_SUFFIX)
        }
        _sync_options(
            runtime, fields.suggested_problem, suggestable, SUGGESTED_PREFIX, NO_SUGGESTION_OPTION
        )
    if fields.known_problem is None:
        return 0, 0
    return _sync_options(
        runtime, fields.known_problem, wanted, KNOWN_PROBLEM_PREFIX, NO_PROBLEM_OPTION
    )


def _sync_options(
    runtime: DropdownNeeds,
    field_id: int,
    wanted: dict[str, str],
    prefix: str,
    placeholder_option: dict[str, str],
) -> tuple[int, int]:
    field = runtime.zendesk.get_ticket_field(field_id)
    current = {o["value"]: o for o in field.get("custom_field_options") or []}
    # A dropdown needs one option: "(no open problem)" stands in only while no problem is listed.
    placeholder = placeholder_option["value"]
    if not wanted:
        wanted = {placeholder: placeholder_option["name"]}
    added = removed = 0
    for value, name in wanted.items():  # additions first: the field is never left empty
        if value not in current:
            runtime.zendesk.upsert_field_option(field_id, name, value)
            added += 1
        elif current[value]["name"] != name:  # renamed (a new summary, or resolved)
            option_id = int(current[value]["id"])
            runtime.zendesk.upsert_field_option(field_id, name, value, option_id)
            added += 1
    for value, option in current.items():
        ours = value.startswith(prefix) or value == placeholder
        if ours and value not in wanted:
            runtime.zendesk.delete_field_option(field_id, int(option["id"]))
            removed += 1
    if added or removed:
        log_event(
            log, "zendesk.problem_options.synced", field_id=field_id, added=added, removed=removed
        )
    return added, removed
