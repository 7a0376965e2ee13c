"""What both doors hand the connector: one normalised inbound event, whatever the vendor.

`connector/zendesk/webhook.py` and `connector/jira/webhook.py` build it from a verified raw
body; the web tier stores `payload`; the sync handlers read a stored payload back with
`TicketChange.from_payload` / `IssueChange.from_payload`. The two vendor contracts never import
each other: what they share lives here and in `connector/typed_access.py`.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from connector.typed_access import MalformedEvent, as_id, as_object, as_text

Disposition = Literal["handled", "ignored", "unknown"]
TicketChangeKind = Literal["trigger", "event"]

__all__ = [
    "Disposition",
    "Headers",
    "IssueChange",
    "MalformedEvent",
    "NormalisedEvent",
    "SignatureRejected",
    "StaleSignature",
    "TicketChange",
    "signatures_match",
]


class Headers(Protocol):
    """Request headers, looked up case-insensitively (werkzeug's `Headers`, a dict in tests)."""

    def get(self, key: str) -> str | None: ...


class SignatureRejected(Exception):
    """The request is not proven to come from the sender: answer 401 with this reason."""


class StaleSignature(SignatureRejected):
    """Signed correctly but outside the replay window (too old, or too far in the future)."""


def signatures_match(expected: str, given: str) -> bool:
    # compare_digest takes str only if ASCII; header values can be anything.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


@dataclass(frozen=True)
class TicketChange:
    """A Zendesk ticket changed. Only a hint: sync re-reads the ticket itself."""

    ticket_id: int
    actor_id: int | None  # the Zendesk user who made the change (None: not told)
    updated_at: str | None  # as Zendesk rendered it
    status: str | None  # lower case
    type: str  # the vendor's own type: "zen:event-type:ticket.status_changed", "ticket.changed"
    kind: TicketChangeKind  # "trigger": the installed trigger's body; "event": an envelope

    def as_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Any) -> TicketChange:
        """A stored payload back into the model; a wrong type raises instead of passing None."""
        stored = as_object(payload, "payload", required=True)
        kind: TicketChangeKind
        match as_text(stored, "kind", "payload.kind", required=True):
            case "trigger":
                kind = "trigger"
            case "event":
                kind = "event"
            case other:
                raise MalformedEvent(f"payload.kind must be trigger or event, not {other!r}")
        ticket_id = as_id(stored.get("ticket_id"), "payload.ticket_id")
        if ticket_id is None:
            raise MalformedEvent("payload.ticket_id is missing")
        return cls(
            ticket_id=ticket_id,
            actor_id=as_id(stored.get("actor_id"), "payload.actor_id"),
            updated_at=as_text(stored, "updated_at", "payload.updated_at"),
            status=as_text(stored, "status", "payload.status"),
            type=as_text(stored, "type", "payload.type", required=True),
            kind=kind,
        )


@dataclass(frozen=True)
class IssueChange:
    """A Jira issue or one of its comments changed. Only a hint: sync re-reads the issue."""

    issue_id: str  # numeric, as text: it survives a move to another project, the key does not
    issue_key: str
    actor_account_id: str | None
    timestamp: int | None  # epoch milliseconds, as Jira sent it
    webhook_event: str
    changelog_fields: tuple[str, ...]
    status_category: str | None  # new | indeterminate | done

    def as_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["changelog_fields"] = list(self.changelog_fields)  # JSON has no tuples
        return payload

    @classmethod
    def from_payload(cls, payload: Any) -> IssueChange:
        """A stored payload back into the model; a wrong type raises instead of passing None."""
        stored = as_object(payload, "payload", required=True)
        issue_id = as_text(stored, "issue_id", "payload.issue_id", required=True)
        if not issue_id.isdigit():
            raise MalformedEvent("payload.issue_id must be a numeric id")
        fields = stored.get("changelog_fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise MalformedEvent("payload.changelog_fields must be a list of strings")
        timestamp = stored.get("timestamp")
        if timestamp is not None and (
            isinstance(timestamp, bool) or not isinstance(timestamp, int)
        ):
            raise MalformedEvent("payload.timestamp must be epoch milliseconds")
        return cls(
            issue_id=issue_id,
            issue_key=as_text(stored, "issue_key", "payload.issue_key", required=True),
            actor_account_id=as_text(stored, "actor_account_id", "payload.actor_account_id"),
            timestamp=timestamp,
            webhook_event=as_text(stored, "webhook_event", "payload.webhook_event", required=True),
            changelog_fields=tuple(fields),
            status_category=as_text(stored, "status_category", "payload.status_category"),
        )


@dataclass(frozen=True)
class NormalisedEvent:
    """One classified delivery. `change` (and so `subject_id`) is set only for handled events."""

    source: str  # "zendesk" | "jira"
    event_type: str  # the declared type it was classified as ("ticket.created", ...)
    disposition: Disposition
    subject_id: str = ""  # the ticket id or the Jira issue id, as text
    delivery_id: str | None = None  # the sender's id for this delivery, when it gave one
    occurred_at: datetime | None = None  # when the sender says the change happened
    change: TicketChange | IssueChange | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """What is stored with the event for the sync side."""
        return self.change.as_payload() if self.change is not None else {}

    @property
    def handled(self) -> bool:
        return self.disposition == "handled"
