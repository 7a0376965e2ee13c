"""Fakes Zendesk tickets: create (incl. follow-ups of closed tickets), update, comments, audits.

One update is one audit, applied atomically: it is validated on a copy and committed whole.
Zendesk rules kept: closed tickets refuse updates (422); drop-down fields and tags stay in step
(setting a field adds its option tag, removing the tag clears the field); agent comments get
placeholders rendered; solving a problem solves its open incidents with the same comment; an
incident's `problem_id` must name a problem ticket.
"""

from __future__ import annotations

import copy
from typing import Any

from connector_sandboxes.zendesk import fields as fieldlib
from connector_sandboxes.zendesk.records import (
    PRIORITIES,
    SIMPLE,
    STATUSES,
    TYPES,
    Change,
    Ticket,
    add_comment,
    make_audit,
    snapshot,
    ticket_json,
)
from connector_sandboxes.zendesk.state import JSON, ApiError, State, iso, record_invalid

__all__ = ["Change", "Ticket", "create_ticket", "ticket_json", "update_ticket"]


def closed_error() -> ApiError:
    return record_invalid("status", "Status: closed prevents ticket update", error=None)


def create_ticket(
    st: State, data: JSON, actor_id: int, channel: str = "api"
) -> tuple[Ticket, JSON]:
    data = dict(data)
    comment = data.pop("comment", None) or {"body": data.get("description")}
    if not (comment.get("body") or comment.get("html_body")):
        raise record_invalid("description", "Description: cannot be blank")
    via: JSON = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}
    source_id = data.pop("via_followup_source_id", None)
    if source_id is not None:
        source = st.tickets.get(int(source_id))
        if source is None or source.status != "closed":
            raise record_invalid("via_followup_source_id", "Follow-up source must be closed")
        via["source"] = {
            "from": {"ticket_id": source.id, "subject": source.subject},
            "to": {},
            "rel": "follow_up",
        }
        data.setdefault("requester_id", source.requester_id)
        data.setdefault("subject", source.subject)
        data.setdefault("organization_id", source.organization_id)
    if isinstance(data.get("requester"), dict):
        from connector_sandboxes.zendesk.people import find_or_create_requester

        data["requester_id"] = find_or_create_requester(st, data.pop("requester"))
    requester_id = int(data.get("requester_id") or actor_id)
    now = st.now()
    ticket = Ticket(st.ids.next("ticket"), now, now, requester_id, actor_id, via)
    ticket.organization_id = st.users.get(requester_id, {}).get("organization_id")
    for custom in fieldlib.custom_fields(st):
        ticket.custom[custom["id"]] = False if custom["type"] == "checkbox" else None
    ticket.is_public = comment.get("public", True) is not False
    audit = _apply(st, ticket, {**data, "comment": comment}, actor_id, channel, created=True)
    if source_id is not None:
        st.tickets[int(source_id)].followup_ids.append(ticket.id)
    return ticket, audit


def update_ticket(
    st: State, ticket_id: int, data: JSON, actor_id: int, channel: str = "api"
) -> JSON:
    ticket = st.ticket(ticket_id)
    if ticket.status == "closed":
        raise closed_error()
    stamp = data.get("updated_stamp")
    if data.get("safe_update") and stamp and stamp != iso(ticket.updated_at):
        description = (
            "Safe Update prevented the update due to outdated ticket data. "
            "Please fetch the latest ticket data and try again."
        )
        raise ApiError(409, {"error": "UpdateConflict", "description": description})
    return _apply(st, ticket, data, actor_id, channel, created=False)


def _apply(st: State, ticket: Ticket, data: JSON, actor: int, channel: str, created: bool) -> JSON:
    before = {} if created else snapshot(ticket)
    draft = copy.deepcopy(ticket)
    for key in SIMPLE:
        if key in data:
            setattr(draft, key, data[key])
    _apply_tags(st, draft, data)
    for item in data.get("custom_fields") or data.get("fields") or []:
        _set_field(st, draft, int(item["id"]), item.get("value"))
    _validate(st, draft, actor)
    comment = data.get("comment")
    ticket.__dict__.update(draft.__dict__)
    ticket.updated_at = st.now()
    if created:
        st.tickets[ticket.id] = ticket
        st.comments[ticket.id] = []
        st.audits[ticket.id] = []
    audit_id = st.ids.next("event")
    stored = add_comment(st, ticket, comment, actor, channel, audit_id) if comment else None
    if created and stored:
        ticket.description = stored["plain_body"]
    audit = make_audit(st, ticket, before, stored, actor, channel, created, audit_id)
    change = Change(ticket, actor, channel, created, before, snapshot(ticket), stored)
    from connector_sandboxes.zendesk.webhooks import dispatch_change

    dispatch_change(st, change)
    solved_now = not created and before["status"] != "solved" and ticket.status == "solved"
    if solved_now and ticket.type == "problem":  # only problem tickets have incidents
        _solve_incidents(st, ticket, comment, actor, channel)
    return audit


def _apply_tags(st: State, draft: Ticket, data: JSON) -> None:
    old = set(draft.tags)
    tags = list(data["tags"]) if "tags" in data else list(draft.tags)
    tags += [t for t in data.get("additional_tags") or [] if t not in tags]
    tags = [t for t in dict.fromkeys(tags) if t not in set(data.get("remove_tags") or [])]
    draft.tags = tags
    for tag in old - set(tags):
        owner = fieldlib.tag_owner(st, tag)
        if owner and owner[0]["id"] in draft.custom:
            value = draft.custom[owner[0]["id"]]
            if isinstance(value, list):
                draft.custom[owner[0]["id"]] = [v for v in value if v != tag]
            elif value == tag or owner[0]["type"] == "checkbox":
                draft.custom[owner[0]["id"]] = False if owner[1] is None else None
    for tag in set(tags) - old:
        owner = fieldlib.tag_owner(st, tag)
        if owner and owner[0]["active"]:
            value = draft.custom.get(owner[0]["id"])
            if owner[0]["type"] == "multiselect":
                tag_value: Any = [*(value or []), tag]
            else:
                tag_value = True if owner[1] is None else tag
            _set_field(st, draft, owner[0]["id"], tag_value)


def _set_field(st: State, draft: Ticket, field_id: int, value: Any) -> None:
    definition = st.ticket_fields.get(field_id)
    if definition is None or definition["type"] not in fieldlib.CUSTOM_TYPES:
        raise record_invalid(str(field_id), f"Field {field_id}: does not exist")
    value = fieldlib.validate_value(definition, value)
    old = draft.custom.get(field_id)
    old_tags = old if isinstance(old, list) else [old] if isinstance(old, str) else []
    new_tags = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    if definition["type"] == "checkbox":
        old_tags = [definition["tag"]] if old and definition["tag"] else []
        new_tags = [definition["tag"]] if value and definition["tag"] else []
    elif definition["type"] not in fieldlib.OPTION_TYPES:
        old_tags = new_tags = []
    draft.tags = [t for t in draft.tags if t not in old_tags or t in new_tags]
    draft.tags += [t for t in new_tags if t not in draft.tags]
    draft.custom[field_id] = value


def _validate(st: State, draft: Ticket, actor: int) -> None:
    for key, allowed in (("status", STATUSES), ("type", TYPES), ("priority", PRIORITIES)):
        value = getattr(draft, key)
        if (value is not None or key == "status") and value not in allowed:
            raise record_invalid(key, f"{key.capitalize()}: {value} is not valid")
    if draft.requester_id not in st.users:
        raise record_invalid("requester_id", "Requester: is invalid")
    if draft.type != "incident":
        draft.problem_id = None
    elif draft.problem_id is not None:
        problem = st.tickets.get(int(draft.problem_id))
        if problem is None or problem.type != "problem" or problem.id == draft.id:
            raise record_invalid("problem_id", "Problem: must be a problem ticket")
        draft.problem_id = int(draft.problem_id)
    solving = draft.status in ("solved", "closed") and draft.assignee_id is None
    if solving and st.users[actor]["role"] != "end-user":
        draft.assignee_id = actor  # Zendesk assigns the solving agent


def _solve_incidents(
    st: State, problem: Ticket, comment: JSON | None, actor: int, channel: str
) -> None:
    for incident in list(st.tickets.values()):
        if incident.problem_id == problem.id and incident.status not in ("solved", "closed"):
            data: JSON = {"status": "solved"} | ({"comment": dict(comment)} if comment else {})
            _apply(st, incident, data, actor, channel, created=False)
