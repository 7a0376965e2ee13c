"""Zendesk's webhook contract: how a delivery is signed, which event types the connector handles
or deliberately ignores, and how a verified body becomes a `NormalisedEvent`. Pure: no HTTP, no
database, no settings.

Two shapes arrive at `POST /webhooks/zendesk`:
- TRIGGER_BODY, the JSON that the trigger `connector install` creates sends to a
  `conditional_ticket_events` webhook on every ticket create or change (Zendesk renders each
  `{{...}}` placeholder into a string);
- event-subscribed envelopes, `{"type": "zen:event-type:ticket.status_changed", "subject":
  "zen:ticket:5158", "detail": {the ticket}, "event": {previous/current}, ...}`, whose ids may
  be strings and whose enums are upper case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from connector.inbound_model import (
    Disposition,
    Headers,
    NormalisedEvent,
    SignatureRejected,
    StaleSignature,
    TicketChange,
    signatures_match,
)
from connector.typed_access import (
    MAX_TEXT,
    MalformedEvent,
    as_id,
    as_object,
    as_text,
    lower,
    parse_json,
)

SOURCE = "zendesk"
SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
DELIVERY_HEADER = "X-Zendesk-Webhook-Invocation-Id"

TRIGGER_EVENT = "ticket.changed"
TRIGGER_BODY = json.dumps(
    {
        "source": "zendesk-trigger",
        "event": TRIGGER_EVENT,
        "ticket_id": "{{ticket.id}}",
        "updated_at": "{{ticket.updated_at_with_timestamp}}",
        "actor_id": "{{current_user.id}}",
        "status": "{{ticket.status}}",
    },
    indent=2,
)
EVENT_PREFIX = "zen:event-type:"

# Envelope types that can change a ticket's link, its problem's impact, or whether it gets a
# reply (stored under the name without EVENT_PREFIX).
HANDLED_EVENTS = frozenset(
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
HANDLED = HANDLED_EVENTS | {TRIGGER_EVENT}

_COMMENTS = "comments never link, unlink nor reply: customer text is not a routing signal"
_PEOPLE = "who works on a ticket does not change which problem it belongs to"
_NOT_ROUTED = "not an input of linking rules, impact or replies"
_SLA = "SLA and schedules are Zendesk's own business"
IGNORED: Mapping[str, str] = MappingProxyType(
    {
        "ticket.comment_added": _COMMENTS,
        "ticket.comment_made_private": _COMMENTS,
        "ticket.comment_redacted": _COMMENTS,
        "ticket.attachment_linked_to_comment": _COMMENTS,
        "ticket.attachment_redacted_from_comment": _COMMENTS,
        "ticket.priority_changed": "impact counts tickets and organisations, not their priority",
        "ticket.agent_assignment_changed": _PEOPLE,
        "ticket.group_assignment_changed": _PEOPLE,
        "ticket.email_ccs_changed": _PEOPLE,
        "ticket.followers_changed": _PEOPLE,
        "ticket.submitter_changed": _PEOPLE,
        "ticket.description_changed": _NOT_ROUTED,
        "ticket.external_id_changed": _NOT_ROUTED,
        "ticket.form_changed": _NOT_ROUTED,
        "ticket.sla_policy_changed": _SLA,
        "ticket.ola_policy_changed": _SLA,
        "ticket.schedule_changed": _SLA,
        "ticket.task_due_at_changed": _SLA,
    }
)

# RFC 3339 date-time; `datetime.fromisoformat` alone also takes dates, week dates and no zone.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


# ---- signature ------------------------------------------------------------------------------
def signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + raw body)): no separator, and the secret is used
    as-is even though it looks like base64."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(
    secret: str | None,
    headers: Headers,
    body: bytes,
    *,
    now: datetime,
    max_age_seconds: int,
) -> None:
    """Raise SignatureRejected unless the headers sign `timestamp + body` and are fresh."""
    if secret is None:
        raise SignatureRejected(
            "CONNECTOR_ZENDESK_WEBHOOK_SECRET is not set: Zendesk signs every webhook, "
            "so deliveries cannot be verified until the secret is configured"
        )
    verify_signature(
        secret,
        headers.get(TIMESTAMP_HEADER),
        headers.get(SIGNATURE_HEADER),
        body,
        now=now,
        max_age_seconds=max_age_seconds,
    )


def verify_signature(
    secret: str,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    *,
    now: datetime,
    max_age_seconds: int,
) -> None:
    if not given or not timestamp:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} or its timestamp")
    if not signatures_match(signature(secret, timestamp, body), given):
        raise SignatureRejected("signature does not match")
    try:
        signed_at = parse_timestamp(timestamp)
    except ValueError:
        raise SignatureRejected("signature timestamp is not an RFC 3339 date-time") from None
    # Zendesk prescribes no replay window: a few minutes either way of our clock.
    if abs((now - signed_at).total_seconds()) > max_age_seconds:
        raise StaleSignature(f"signature timestamp is more than {max_age_seconds}s from now")


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp with a zone (`2021-03-25T05:09:27Z`, `...27.5+02:00`)."""
    if not _RFC3339.fullmatch(text):
        raise ValueError("not an RFC 3339 date-time")
    text = text.upper().replace(" ", "T")
    if "." in text:  # fromisoformat takes at most microseconds on some Pythons
        head, _, rest = text.partition(".")
        digits = re.match(r"\d+", rest)
        assert digits is not None  # guaranteed by _RFC3339
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- normalisation --------------------------------------------------------------------------
def normalise(raw: bytes, delivery_id: str | None = None) -> NormalisedEvent:
    """A verified raw body (trigger body or event envelope) -> a normalised ticket event.

    Raises MalformedEvent, saying which part is wrong, for a body we cannot read.
    """
    body = as_object(parse_json(raw), "body", required=True)
    if body.get("source") == "zendesk-trigger" or "type" not in body:
        return _event(_trigger_change(body), TRIGGER_EVENT, delivery_id)
    raw_type = as_text(body, "type", "type", required=True)
    event_type = raw_type.removeprefix(EVENT_PREFIX)
    if event_type not in HANDLED_EVENTS:
        disposition: Disposition = "ignored" if event_type in IGNORED else "unknown"
        return NormalisedEvent(SOURCE, event_type[:MAX_TEXT], disposition, delivery_id=delivery_id)
    return _event(_envelope_change(body, raw_type), event_type, delivery_id)


def _event(change: TicketChange, event_type: str, delivery_id: str | None) -> NormalisedEvent:
    return NormalisedEvent(
        SOURCE,
        event_type,
        "handled",
        subject_id=str(change.ticket_id),
        delivery_id=delivery_id,
        occurred_at=_occurred_at(change.updated_at),
        change=change,
    )


def _trigger_change(body: dict[str, Any]) -> TicketChange:
    ticket_id = as_id(body.get("ticket_id"), "ticket_id")
    if ticket_id is None:
        raise MalformedEvent("ticket_id is missing (neither a trigger body nor an event envelope)")
    return TicketChange(
        ticket_id=ticket_id,
        actor_id=as_id(body.get("actor_id"), "actor_id"),
        updated_at=as_text(body, "updated_at", "updated_at"),
        status=lower(as_text(body, "status", "status")),
        type=TRIGGER_EVENT,
        kind="trigger",
    )


def _envelope_change(body: dict[str, Any], raw_type: str) -> TicketChange:
    detail = as_object(body.get("detail", {}), "detail")
    return TicketChange(
        ticket_id=_ticket_id_of(body, detail),
        actor_id=as_id(detail.get("actor_id"), "detail.actor_id"),
        updated_at=as_text(detail, "updated_at", "detail.updated_at")
        or as_text(body, "time", "time"),
        status=lower(as_text(detail, "status", "detail.status")),
        type=raw_type,
        kind="event",
    )


def _ticket_id_of(body: dict[str, Any], detail: dict[str, Any]) -> int:
    ticket_id = as_id(detail.get("id"), "detail.id")
    if ticket_id is None:
        subject = as_text(body, "subject", "subject") or ""
        if subject.startswith("zen:ticket:"):
            ticket_id = as_id(subject.removeprefix("zen:ticket:"), "subject")
    if ticket_id is None:
        raise MalformedEvent("ticket id is missing (detail.id or subject zen:ticket:<id>)")
    return ticket_id


def _occurred_at(updated_at: str | None) -> datetime | None:
    # Only a hint (sync re-reads the ticket), and how a trigger renders
    # {{ticket.updated_at_with_timestamp}} is not pinned down: unreadable is simply unknown.
    try:
        return parse_timestamp(updated_at) if updated_at else None
    except ValueError:
        return None
