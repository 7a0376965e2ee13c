"""Move the *Owning team* dropdown off the bare team keys it once used as option values.

An option's value is a tag on every ticket that picks it, and `billing` is a tag a real account
may well set for its own reasons (which would also pick the option). Options are now
`zdjira_team_<key>`; the sync reads both. For each old option install, in one step:
1. renames it "<name> (old)", so no two options ever share a name;
2. adds the new options;
3. sets the new option on the open tickets that hold the old one (`update_many`, 100 a job):
   Zendesk swaps the tags with the field, so `billing` leaves those tickets;
4. deletes the old option once a search finds no open ticket holding it. Zendesk's search lags
   by up to minutes, so this often happens on the next `connector install`, which says so.
Closed tickets cannot be updated: once the old option is gone their field is blank (the tag
stays), and the connector no longer reads them.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.fields import team_option
from connector.install.plan import UPDATE, Plan, Step
from connector.zendesk.models import TicketUpdate

if TYPE_CHECKING:
    from connector.install.context import AdminContext

OLD = " (old)"
JOB_WAIT_SECONDS = 300.0


def plan_team_options(
    runtime: AdminContext, field: dict[str, Any], options: list[dict[str, str]], plan: Plan
) -> bool:
    """Plan the move when the field still has old options; False when it has none."""
    old = [o for o in field.get("custom_field_options") or [] if o["value"] in runtime.config.teams]
    if not old:
        return False
    fid = int(field["id"])
    holding = {
        o["value"]: runtime.zendesk.search_ticket_ids(_holding(fid, o["value"])) for o in old
    }
    moves = ", ".join(f"{value} -> {team_option(value)}" for value in holding)
    count = sum(len(ids) for ids in holding.values())
    detail = f"options {moves}; {count} open ticket(s) move to the new options"
    run = partial(_move, runtime, field, old, options, plan)
    plan.add(Step("zendesk", "ticket field", field["title"], UPDATE, detail, run=run))
    return True


def _holding(field_id: int, value: str) -> str:
    return f"custom_field_{field_id}:{value} status<closed"


def _move(
    runtime: AdminContext,
    field: dict[str, Any],
    old: list[dict[str, Any]],
    options: list[dict[str, str]],
    plan: Plan,
) -> None:
    zendesk, fid = runtime.zendesk, int(field["id"])
    for option in old:
        if not option["name"].endswith(OLD):
            zendesk.upsert_field_option(fid, option["name"] + OLD, option["value"], option["id"])
    have = {o["value"]: o["name"] for o in field.get("custom_field_options") or []}
    for option in options:
        if have.get(option["value"]) != option["name"]:
            zendesk.upsert_field_option(fid, option["name"], option["value"])
    for option in old:
        query, new = _holding(fid, option["value"]), team_option(option["value"])
        ids = zendesk.search_ticket_ids(query)
        if ids and not _wait(
            runtime, zendesk.update_all(ids, TicketUpdate(custom_fields={fid: new}))
        ):
            plan.notes.append(f"Owning team: moving tickets to {new} takes long; rerun install")
            continue
        left = zendesk.search_ticket_ids(query)
        if left:
            plan.notes.append(
                f"Owning team: {len(left)} open ticket(s) may still hold {option['value']} "
                "(Zendesk's search lags by minutes): run `connector install` again later to "
                "finish and remove the old option"
            )
            continue
        zendesk.delete_field_option(fid, int(option["id"]))


def _wait(runtime: AdminContext, jobs: list[Any]) -> bool:
    """Whether every job finished within JOB_WAIT_SECONDS (their results do not matter: the
    search afterwards says what is left)."""
    pending = [job.id for job in jobs if not job.finished]
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    while pending and time.monotonic() < deadline:
        time.sleep(0.5)
        pending = [j.id for j in runtime.zendesk.job_statuses(pending) if not j.finished]
    return not pending
