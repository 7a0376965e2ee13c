"""Jira's webhook contract: how an admin webhook delivery is signed, which events the connector
handles or deliberately ignores, and how a verified body becomes a `NormalisedEvent`. Pure: no
HTTP, no database, no settings.

Admin webhooks (`/rest/webhooks/1.0/webhook`) send the v2 representation and name their event
in `webhookEvent`; created with a secret, each delivery carries
`X-Hub-Signature: sha256=<lower-case hex HMAC-SHA256(secret, raw body)>`, without one they are
unsigned. Jira Cloud and Jira Data Center 10.x sign the same way (Data Center 9.x and older
never sign: `connector doctor` says so). The bodies differ only in their user beans: Cloud names
the actor by `accountId`, Data Center by `name` and `key`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from connector.inbound_model import (
    Disposition,
    Headers,
    IssueChange,
    NormalisedEvent,
    SignatureRejected,
    signatures_match,
)
from connector.typed_access import (
    MAX_TEXT,
    MalformedEvent,
    as_object,
    as_text,
    lower,
    parse_json,
)

SOURCE = "jira"
SIGNATURE_HEADER = "X-Hub-Signature"
# Unique per delivery and the same across its retries.
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"

HANDLED = frozenset({"jira:issue_updated", "jira:issue_deleted", "comment_created"})

_RECONCILED = "the periodic Jira poll mirrors tracked issues if this ever matters"
_NOT_AN_ISSUE = "not about an issue a problem tracks"
IGNORED: Mapping[str, str] = MappingProxyType(
    {
        "jira:issue_created": "an issue becomes a problem when a ticket names it, not before",
        "comment_updated": _RECONCILED,
        "comment_deleted": _RECONCILED,
        "issue_property_set": "the connector writes issue properties itself (impact)",
        "issue_property_deleted": _RECONCILED,
        "issuelink_created": _RECONCILED,
        "issuelink_deleted": _RECONCILED,
        "worklog_created": _RECONCILED,
        "worklog_updated": _RECONCILED,
        "worklog_deleted": _RECONCILED,
        "attachment_created": _RECONCILED,
        "attachment_deleted": _RECONCILED,
        "jira:version_created": _NOT_AN_ISSUE,
        "jira:version_updated": _NOT_AN_ISSUE,
        "jira:version_released": _NOT_AN_ISSUE,
        "jira:version_unreleased": _NOT_AN_ISSUE,
        "jira:version_deleted": _NOT_AN_ISSUE,
        "project_created": _NOT_AN_ISSUE,
        "project_updated": _NOT_AN_ISSUE,
        "project_deleted": _NOT_AN_ISSUE,
        "sprint_started": _NOT_AN_ISSUE,
        "sprint_closed": _NOT_AN_ISSUE,
        "user_created": _NOT_AN_ISSUE,
        "user_updated": _NOT_AN_ISSUE,
        "user_deleted": _NOT_AN_ISSUE,
    }
)

_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


# ---- signature ------------------------------------------------------------------------------
def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str | None, headers: Headers, body: bytes) -> None:
    """Raise SignatureRejected unless the delivery is signed with `secret`.

    Jira signs admin webhooks only when they were created with a secret: with no secret
    configured, unsigned deliveries are accepted.
    """
    if secret is not None:
        verify_signature(secret, headers.get(SIGNATURE_HEADER), body)


def verify_signature(secret: str, header: str | None, body: bytes) -> None:
    """Raise SignatureRejected unless `header` is `sha256=<hex>` over `body` with `secret`."""
    if not header:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER}")
    if not signatures_match(signature(secret, body), header.strip()):
        raise SignatureRejected("signature does not match")


# ---- normalisation --------------------------------------------------------------------------
def normalise(raw: bytes, delivery_id: str | None = None) -> NormalisedEvent:
    """A verified admin-webhook body -> a normalised issue event.

    Raises MalformedEvent, saying which part is wrong, for a body we cannot read.
    """
    body = as_object(parse_json(raw), "body", required=True)
    event_type = as_text(body, "webhookEvent", "webhookEvent", required=True)
    if event_type not in HANDLED:
        disposition: Disposition = "ignored" if event_type in IGNORED else "unknown"
        return NormalisedEvent(SOURCE, event_type[:MAX_TEXT], disposition, delivery_id=delivery_id)
    change = _issue_change(body, event_type)
    return NormalisedEvent(
        SOURCE,
        event_type,
        "handled",
        subject_id=change.issue_id,
        delivery_id=delivery_id,
        occurred_at=_occurred_at(change.timestamp),
        change=change,
    )


def _issue_change(body: dict[str, Any], event_type: str) -> IssueChange:
    issue = as_object(body.get("issue"), "issue")
    fields = as_object(issue.get("fields", {}), "issue.fields")
    status = as_object(fields.get("status", {}), "issue.fields.status")
    category = as_object(status.get("statusCategory", {}), "issue.fields.status.statusCategory")
    return IssueChange(
        issue_id=_issue_id(issue.get("id")),
        issue_key=as_text(issue, "key", "issue.key", required=True),
        actor_account_id=_actor(body),
        timestamp=_timestamp(body.get("timestamp")),
        webhook_event=event_type,
        changelog_fields=_changelog_fields(body.get("changelog", {})),
        status_category=lower(as_text(category, "key", "statusCategory.key")),
    )


def _actor(body: dict[str, Any]) -> str | None:
    """Who made the change, as `models.user_identity` names a user: Cloud's `accountId`, or
    Data Center's user `key` (its bodies carry `name` and `key`, no `accountId`)."""
    user = as_object(body.get("user", {}), "user")
    actor = _identity(user, "user")
    if actor is None and "comment" in body:  # comment events carry the author, not `user`
        comment = as_object(body["comment"], "comment")
        author = as_object(comment.get("author", {}), "comment.author")
        actor = _identity(author, "comment.author")
    return actor


def _identity(user: dict[str, Any], where: str) -> str | None:
    return as_text(user, "accountId", f"{where}.accountId") or as_text(user, "key", f"{where}.key")


def _changelog_fields(changelog: Any) -> tuple[str, ...]:
    items = as_object(changelog, "changelog").get("items", [])
    if not isinstance(items, list):
        raise MalformedEvent("changelog.items must be a list")
    names = [
        as_text(as_object(item, "changelog item"), "field", "changelog.items[].field")
        for item in items
    ]
    return tuple(name for name in names if name)


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
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_EPOCH_MS:
        raise MalformedEvent("timestamp must be epoch milliseconds")
    return value


def _occurred_at(timestamp: int | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp / 1000, UTC)
