"""How tickets, comments and audits are held and how they look in the Zendesk API (the keys and
types of the recorded exchanges: full ticket objects, comment and audit events).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from connector_sandboxes.zendesk import fields as fieldlib
from connector_sandboxes.zendesk import render
from connector_sandboxes.zendesk.state import JSON, State, iso

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TYPES = ("problem", "incident", "question", "task")
PRIORITIES = ("urgent", "high", "normal", "low")
BRAND_ID, FORM_ID = 360_000_000_101, 360_000_000_201
SIMPLE = (
    "subject",
    "status",
    "type",
    "priority",
    "requester_id",
    "assignee_id",
    "group_id",
    "organization_id",
    "problem_id",
    "external_id",
    "due_at",
)
WATCHED = (*SIMPLE, "tags", "custom")
SYSTEM_METADATA = {
    "client": "Zendesk sandbox",
    "ip_address": "127.0.0.1",
    "location": "Sandbox",
    "latitude": 0.0,
    "longitude": 0.0,
}


@dataclass
class Ticket:
    id: int
    created_at: float
    updated_at: float
    requester_id: int
    submitter_id: int
    via: JSON
    subject: str = ""
    description: str = ""
    status: str = "new"
    type: str | None = None
    priority: str | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    problem_id: int | None = None
    external_id: str | None = None
    due_at: str | None = None
    is_public: bool = True
    tags: list[str] = field(default_factory=list)
    custom: dict[int, Any] = field(default_factory=dict)
    followup_ids: list[int] = field(default_factory=list)


@dataclass
class Change:
    """What one audit did; triggers and event webhooks are derived from it."""

    ticket: Ticket
    actor_id: int
    channel: str
    created: bool
    before: JSON
    after: JSON
    comment: JSON | None


def snapshot(ticket: Ticket) -> JSON:
    return {key: copy.deepcopy(getattr(ticket, key)) for key in WATCHED}


def add_comment(
    st: State, ticket: Ticket, comment: JSON, actor: int, channel: str, audit_id: int
) -> JSON:
    author = int(comment.get("author_id") or actor)
    html = comment.get("html_body")
    text = render.text_of(html) if html else str(comment.get("body") or "")
    if st.users.get(author, {}).get("role") in ("agent", "admin"):
        text = render.render(st, ticket, author, text)
        html = render.render(st, ticket, author, html) if html else None
    event_id = st.ids.next("event")
    stored: JSON = {
        "id": event_id,
        "type": "Comment",
        "author_id": author,
        "body": text,
        "html_body": html or render.html_of(text),
        "plain_body": text,
        "public": comment.get("public", True) is not False,
        "attachments": [],
        "audit_id": audit_id,
        "via": {"channel": channel, "source": no_source()},
        "created_at": iso(ticket.updated_at),
        "metadata": {"system": {}, "custom": {}},
    }
    st.comments[ticket.id].append(stored)
    return stored


def make_audit(
    st: State,
    ticket: Ticket,
    before: JSON,
    comment: JSON | None,
    actor: int,
    channel: str,
    created: bool,
    audit_id: int,
) -> JSON:
    events: list[JSON] = []
    if comment:
        events.append(
            {
                k: comment[k]
                for k in (
                    "id",
                    "type",
                    "author_id",
                    "body",
                    "html_body",
                    "plain_body",
                    "public",
                    "attachments",
                )
            }
        )
    after = snapshot(ticket)
    for key in WATCHED:
        if key == "custom" or (not created and before.get(key) == after[key]):
            continue
        value = " ".join(after[key]) if key == "tags" else after[key]
        event = {
            "id": st.ids.next("event"),
            "type": "Create" if created else "Change",
            "value": None if value is None else str(value),
            "field_name": key,
        }
        if not created:
            old = before[key]
            event["previous_value"] = " ".join(old) if key == "tags" else old
        events.append(event)
    for event in events:
        event["audit_id"] = audit_id
    audit = {
        "id": audit_id,
        "ticket_id": ticket.id,
        "created_at": iso(ticket.updated_at),
        "author_id": actor,
        "metadata": {"system": SYSTEM_METADATA, "custom": {}},
        "events": events,
        "via": {"channel": channel, "source": no_source()},
    }
    st.audits[ticket.id].append(audit)
    return audit


def no_source() -> JSON:
    return {"from": {}, "to": {}, "rel": None}


def ticket_json(st: State, t: Ticket) -> JSON:
    custom = [{"id": f["id"], "value": t.custom.get(f["id"])} for f in fieldlib.custom_fields(st)]
    has_incidents = any(o.problem_id == t.id for o in st.tickets.values())
    return {
        "url": st.url(f"tickets/{t.id}.json"),
        "id": t.id,
        "external_id": t.external_id,
        "via": t.via,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "generated_timestamp": int(t.updated_at),
        "type": t.type,
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": t.description,
        "priority": t.priority,
        "status": t.status,
        "recipient": None,
        "requester_id": t.requester_id,
        "submitter_id": t.submitter_id,
        "assignee_id": t.assignee_id,
        "organization_id": t.organization_id,
        "group_id": t.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": t.problem_id,
        "has_incidents": has_incidents,
        "is_public": t.is_public,
        "due_at": t.due_at,
        "tags": list(t.tags),
        "custom_fields": custom,
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "custom_status_id": 360_000_000_300 + STATUSES.index(t.status),
        "fields": custom,
        "followup_ids": list(t.followup_ids),
        "ticket_form_id": FORM_ID,
        "brand_id": BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }
