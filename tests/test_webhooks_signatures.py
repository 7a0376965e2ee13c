"""The vendors' signature schemes as pure functions: Zendesk's documented test vector and replay
window, Jira's `X-Hub-Signature`, and what each does without a configured secret."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from connector.inbound_model import SignatureRejected, StaleSignature
from connector.jira import webhook as jira_webhook
from connector.jira.webhook import signature as jira_signature
from connector.jira.webhook import verify_signature as verify_jira
from connector.zendesk import webhook as zendesk_webhook
from connector.zendesk.webhook import parse_timestamp
from connector.zendesk.webhook import signature as zendesk_signature
from connector.zendesk.webhook import verify_signature as verify_zendesk

# API_FACTS.md, "Signing": checked against Zendesk's documentation.
VECTOR_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
VECTOR_TIMESTAMP = "2021-03-25T05:09:27Z"
VECTOR_BODY = b'{"event":"ticket.updated","id":123}'
VECTOR_SIGNATURE = "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM="
SIGNED_AT = datetime(2021, 3, 25, 5, 9, 27, tzinfo=UTC)


def verify_vector(**changes: object) -> None:
    args: dict[str, object] = {
        "secret": VECTOR_SECRET,
        "timestamp": VECTOR_TIMESTAMP,
        "given": VECTOR_SIGNATURE,
        "body": VECTOR_BODY,
        "now": SIGNED_AT + timedelta(seconds=30),
        "max_age_seconds": 300,
    }
    args.update(changes)
    verify_zendesk(**args)  # type: ignore[arg-type]


def test_zendesk_signature_matches_the_documented_test_vector() -> None:
    assert zendesk_signature(VECTOR_SECRET, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    verify_vector()


@pytest.mark.parametrize(
    "change",
    [
        {"given": "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLN="},
        {"given": VECTOR_SIGNATURE.lower()},
        {"given": "ü" * 44},  # not ASCII: refused, not a crash in compare_digest
        {"body": VECTOR_BODY + b" "},
        {"timestamp": "2021-03-25T05:09:28Z"},
        {"secret": "another secret"},
        {"secret": "this_secret_is_for_testing_only"},  # base64-decoded: the secret is used as-is
        {"given": None},
        {"given": ""},
        {"timestamp": None},
    ],
)
def test_any_change_to_signature_body_timestamp_or_secret_is_refused(
    change: dict[str, object],
) -> None:
    with pytest.raises(SignatureRejected) as raised:
        verify_vector(**change)
    assert not isinstance(raised.value, StaleSignature)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 10 * 86_400])
def test_timestamps_outside_the_window_are_stale_in_either_direction(offset: int) -> None:
    with pytest.raises(StaleSignature):
        verify_vector(now=SIGNED_AT - timedelta(seconds=offset))


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_inside_the_window_pass(offset: int) -> None:
    verify_vector(now=SIGNED_AT - timedelta(seconds=offset))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-25T05:09:27Z", SIGNED_AT),
        ("2021-03-25t05:09:27z", SIGNED_AT),
        ("2021-03-25 05:09:27+00:00", SIGNED_AT),
        ("2021-03-25T07:09:27+02:00", SIGNED_AT),
        ("2021-03-25T05:09:27.5Z", SIGNED_AT + timedelta(milliseconds=500)),
        ("2021-03-25T05:09:27.123456789Z", SIGNED_AT + timedelta(microseconds=123456)),
        ("2021-03-25T04:39:27.25-00:30", SIGNED_AT + timedelta(milliseconds=250)),
    ],
)
def test_rfc3339_forms_are_accepted(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2021-03-25", "2021-03-25T05:09:27", "1616648967", "20210325T050927Z", "yesterday", ""],
)
def test_timestamps_that_are_not_rfc3339_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)
    signature = zendesk_signature(VECTOR_SECRET, text, VECTOR_BODY)
    with pytest.raises(SignatureRejected):
        verify_vector(timestamp=text, given=signature)


def test_jira_signature_is_sha256_hex_over_the_raw_body() -> None:
    body = b'{"webhookEvent":"jira:issue_updated"}'
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert jira_signature("s3cret", body) == expected
    verify_jira("s3cret", expected, body)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=deadbeef",
        "sha1=" + hashlib.sha1(b"x").hexdigest(),
        hmac.new(b"s3cret", b"{}", hashlib.sha256).hexdigest(),  # no prefix
        "sha256=" + hmac.new(b"other", b"{}", hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(b"s3cret", b"{} ", hashlib.sha256).hexdigest(),
    ],
)
def test_jira_bad_or_missing_signatures_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureRejected):
        verify_jira("s3cret", header, b"{}")


def test_zendesk_verify_reads_its_own_headers_and_needs_a_secret() -> None:
    headers = {
        "X-Zendesk-Webhook-Signature": VECTOR_SIGNATURE,
        "X-Zendesk-Webhook-Signature-Timestamp": VECTOR_TIMESTAMP,
    }
    zendesk_webhook.verify(VECTOR_SECRET, headers, VECTOR_BODY, now=SIGNED_AT, max_age_seconds=300)
    with pytest.raises(SignatureRejected, match="CONNECTOR_ZENDESK_WEBHOOK_SECRET is not set"):
        zendesk_webhook.verify(None, headers, VECTOR_BODY, now=SIGNED_AT, max_age_seconds=300)
    with pytest.raises(SignatureRejected, match="missing"):
        zendesk_webhook.verify(VECTOR_SECRET, {}, VECTOR_BODY, now=SIGNED_AT, max_age_seconds=300)


def test_jira_verify_accepts_unsigned_deliveries_only_without_a_secret() -> None:
    body = b'{"webhookEvent":"jira:issue_updated"}'
    jira_webhook.verify(None, {}, body)
    jira_webhook.verify("s3cret", {"X-Hub-Signature": jira_signature("s3cret", body)}, body)
    with pytest.raises(SignatureRejected, match="missing X-Hub-Signature"):
        jira_webhook.verify("s3cret", {}, body)
