"""Webhook signatures: pure functions over the raw body, compared in constant time.

Zendesk: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + raw body)), with
the secret used as-is (not base64-decoded) and no separator between timestamp and body.
Jira admin webhooks with a secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

# RFC 3339 date-time; `datetime.fromisoformat` alone also takes dates, week dates and no zone.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


class SignatureRejected(Exception):
    """The request is not proven to come from the sender: answer 401 with this reason."""


class StaleSignature(SignatureRejected):
    """Signed correctly but outside the replay window (too old, or too far in the future)."""


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def jira_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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


def verify_zendesk(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: datetime,
    max_age_seconds: int,
) -> None:
    """Raise SignatureRejected unless `signature` signs `timestamp + body` and is fresh."""
    if not signature or not timestamp:
        raise SignatureRejected("missing X-Zendesk-Webhook-Signature or its timestamp")
    expected = zendesk_signature(secret, timestamp, body)
    if not _same(expected, signature):
        raise SignatureRejected("signature does not match")
    try:
        signed_at = parse_timestamp(timestamp)
    except ValueError:
        raise SignatureRejected("signature timestamp is not an RFC 3339 date-time") from None
    if abs((now - signed_at).total_seconds()) > max_age_seconds:
        raise StaleSignature(f"signature timestamp is more than {max_age_seconds}s from now")


def verify_jira(secret: str, header: str | None, body: bytes) -> None:
    """Raise SignatureRejected unless `header` is `sha256=<hex>` over `body` with `secret`."""
    if not header:
        raise SignatureRejected("missing X-Hub-Signature")
    if not _same(jira_signature(secret, body), header.strip()):
        raise SignatureRejected("signature does not match")


def _same(expected: str, given: str) -> bool:
    # compare_digest takes str only if ASCII; header values can be anything.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))
