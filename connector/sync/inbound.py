"""Inbound webhook bodies -> the connector's normalised events. Pure: no HTTP, no database.

Each source declares the event types it handles and those it deliberately ignores; any other
type is unknown (logged and acknowledged by the web tier, never stored). Payload access fails
loudly with `MalformedEvent` on a wrong type instead of passing `None` along.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Disposition = Literal["handled", "ignored", "unknown"]

# The body of the Zendesk trigger that `connector install` creates (a trigger action sends it to
# a `conditional_ticket_events` webhook; Zendesk renders each placeholder into a string).
ZENDESK_TRIGGER_BODY = json.dumps(
    {
        "source": "zendesk-trigger",
        "event": "ticket.changed",
        "ticket_id": "{{ticket.id}}",
        "updated_at": "{{ticket.updated_at_with_timestamp}}",
        "actor_id": "{{current_user.id}}",
        "status": "{{ticket.status}}",
    },
    indent=2,
)
ZENDESK_TRIGGER_EVENT = "ticket.changed"
ZENDESK_EVENT_PREFIX = "zen:event-type:"

# What can change a ticket's link, its problem's impact, or whether it gets a reply.
ZENDESK_HANDLED = frozenset(
    {
        "ticket.created",
        "ticket.status_changed",
        "ticket.custom_status_changed",
        "ticket.type_changed",
        "ticket.problem_link_changed",
        "ticket.custom_field_changed",
        "ticket.tags_changed",
        "ticket.brand_changed",
        "ticket.subject_changed",
        "ticket.organization_changed",
        "ticket.requester_changed",
        "ticket.merged",
        "ticket.marked_as_spam",
        "ticket.soft_deleted",
        "ticket.permanently_deleted",
        "ticket.undeleted",
    }
)
ZENDESK_IGNORED = frozenset(
    {
        "ticket.comment_added",
        "ticket.comment_made_private",
        "ticket.comment_redacted",
        "ticket.attachment_linked_to_comment",
        "ticket.attachment_redacted_from_comment",
        "ticket.priority_changed",
        "ticket.agent_assignment_changed",
        "ticket.group_assignment_changed",
        "ticket.description_changed",
        "ticket.external_id_changed",
        "ticket.email_ccs_changed",
        "ticket.followers_changed",
        "ticket.form_changed",
        "ticket.submitter_changed",
        "ticket.sla_policy_changed",
        "ticket.ola_policy_changed",
        "ticket.schedule_changed",
        "ticket.task_due_at_changed",
    }
)

JIRA_HANDLED = frozenset({"jira:issue_updated", "jira:issue_deleted", "comment_created"})
# Created issues are adopted when a ticket names them; comment edits and the rest are picked
# up by the periodic reconcile if they ever matter.
JIRA_IGNORED = frozenset(
    {
        "jira:issue_created",
        "comment_updated",
        "comment_deleted",
        "issue_property_set",
        "issue_property_deleted",
        "issuelink_created",
        "issuelink_deleted",
        "worklog_created",
        "worklog_updated",
        "worklog_deleted",
        "attachment_created",
        "attachment_deleted",
        "jira:version_created",
        "jira:version_updated",
        "jira:version_released",
        "jira:version_unreleased",
        "jira:version_deleted",
        "project_created",
        "project_updated",
        "project_deleted",
        "sprint_started",
        "sprint_closed",
        "user_created",
        "user_updated",
        "user_deleted",
    }
)

_MAX_ID = 2**63 - 1  # tickets are BigInteger columns
_MAX_TEXT = 255


class MalformedEvent(ValueError):
    """The body cannot be a delivery we handle; the message says which part is wrong."""


@dataclass(frozen=True)
class NormalisedEvent:
    """A classified delivery. `payload` and `subject_id` are set only for handled events."""

    disposition: Disposition
    event_type: str
    subject_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def normalise_zendesk(body: Any) -> NormalisedEvent:
    """A trigger body or an event-subscribed envelope -> a normalised ticket event."""
    body = _object(body, "body")
    if body.get("source") == "zendesk-trigger" or "type" not in body:
        return _zendesk_trigger(body)
    raw_type = _text(body, "type", "type", required=True)
    event_type = raw_type.removeprefix(ZENDESK_EVENT_PREFIX)
    if event_type not in ZENDESK_HANDLED:
        ignored = event_type in ZENDESK_IGNORED
        return NormalisedEvent("ignored" if ignored else "unknown", event_type[:_MAX_TEXT])
    detail = _object(body.get("detail", {}), "detail")
    ticket_id = _ticket_id_of(body, detail)
    payload = {
        "ticket_id": ticket_id,
        "actor_id": _id(detail.get("actor_id"), "detail.actor_id"),
        "updated_at": _text(detail, "updated_at", "detail.updated_at")
        or _text(body, "time", "time"),
        "status": _lower(_text(detail, "status", "detail.status")),
        "type": raw_type,
        "kind": "event",
    }
    return NormalisedEvent("handled", event_type, str(ticket_id), payload)


def _zendesk_trigger(body: dict[str, Any]) -> NormalisedEvent:
    ticket_id = _id(body.get("ticket_id"), "ticket_id")
    if ticket_id is None:
        raise MalformedEvent("ticket_id is missing (neither a trigger body nor an event envelope)")
    payload = {
        "ticket_id": ticket_id,
        "actor_id": _id(body.get("actor_id"), "actor_id"),
        "updated_at": _text(body, "updated_at", "updated_at"),
        "status": _lower(_text(body, "status", "status")),
        "type": ZENDESK_TRIGGER_EVENT,
        "kind": "trigger",
    }
    return NormalisedEvent("handled", ZENDESK_TRIGGER_EVENT, str(ticket_id), payload)


def _ticket_id_of(body: dict[str, Any], detail: dict[str, Any]) -> int:
    ticket_id = _id(detail.get("id"), "detail.id")
    if ticket_id is None:
        subject = _text(body, "subject", "subject") or ""
        if subject.startswith("zen:ticket:"):
            ticket_id = _id(subject.removeprefix("zen:ticket:"), "subject")
    if ticket_id is None:
        raise MalformedEvent("ticket id is missing (detail.id or subject zen:ticket:<id>)")
    return ticket_id


def normalise_jira(body: Any) -> NormalisedEvent:
    """An admin-webhook body (v2 representation) -> a normalised issue event."""
    body = _object(body, "body")
    event_type = _text(body, "webhookEvent", "webhookEvent", required=True)
    if event_type not in JIRA_HANDLED:
        ignored = event_type in JIRA_IGNORED
        return NormalisedEvent("ignored" if ignored else "unknown", event_type[:_MAX_TEXT])
    issue = _object(body.get("issue"), "issue")
    issue_id = _issue_id(issue.get("id"))
    fields = _object(issue.get("fields", {}), "issue.fields")
    status = _object(fields.get("status", {}), "issue.fields.status")
    category = _object(status.get("statusCategory", {}), "issue.fields.status.statusCategory")
    payload = {
        "issue_id": issue_id,
        "issue_key": _text(issue, "key", "issue.key", required=True),
        "actor_account_id": _jira_actor(body),
        "timestamp": _timestamp(body.get("timestamp")),
        "webhook_event": event_type,
        "changelog_fields": _changelog_fields(body.get("changelog", {})),
        "status_category": _lower(_text(category, "key", "statusCategory.key")),
    }
    return NormalisedEvent("handled", event_type, issue_id, payload)


def _jira_actor(body: dict[str, Any]) -> str | None:
    user = _object(body.get("user", {}), "user")
    actor = _text(user, "accountId", "user.accountId")
    if actor is None and "comment" in body:  # comment events carry the author, not `user`
        author = _object(_object(body["comment"], "comment").get("author", {}), "comment.author")
        actor = _text(author, "accountId", "comment.author.accountId")
    return actor


def _changelog_fields(changelog: Any) -> list[str]:
    items = _object(changelog, "changelog").get("items", [])
    if not isinstance(items, list):
        raise MalformedEvent("changelog.items must be a list")
    names = [
        _text(_object(item, "changelog item"), "field", "changelog.items[].field") for item in items
    ]
    return [name for name in names if name]


# ---- typed access ---------------------------------------------------------------------------
def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise MalformedEvent(f"{where} is missing")
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{where} must be a string, not {type(value).__name__}")
    if len(value) > _MAX_TEXT:
        raise MalformedEvent(f"{where} is longer than {_MAX_TEXT} characters")
    return value


def _id(value: Any, where: str) -> int | None:
    """A positive Zendesk id, given as a number or (event envelopes) a string of digits."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
        raise MalformedEvent(f"{where} must be a positive integer id")
    return value


def _issue_id(value: Any) -> str:
    """Jira's numeric issue id (it survives a move; the key does not), as a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        raise MalformedEvent("issue.id is missing")
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19):
        raise MalformedEvent("issue.id must be a numeric id")
    return value


def _timestamp(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_ID:
        raise MalformedEvent("timestamp must be epoch milliseconds")
    return value


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None
