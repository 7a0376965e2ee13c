"""`POST /webhooks/zendesk` through the full HTTP stack, with real signatures, on SQLite and
PostgreSQL: every handled fixture stored once, the rest acknowledged and not stored, and every
bad request refused with the right status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import select
from werkzeug.test import TestResponse

from connector.bootstrap import WorkerContext as Runtime
from connector.settings import Settings
from connector.store.models import InboundEvent
from connector.webhook_app import create_app

SECRET = "zendesk-webhook-secret-for-tests"
FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
ACTOR = 900000000123
UPDATED = "2025-11-03T10:05:31Z"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        queue_path=str(tmp_path / "queue.db"),
        zendesk_webhook_secret=SecretStr(SECRET),
        webhook_max_body_bytes=4096,
        event_coalesce_seconds=0,  # enqueue on every event: counted below
    )


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


def now_stamp(offset: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def post(
    client: FlaskClient,
    body: bytes,
    *,
    invocation: str | None = None,
    timestamp: str | None = None,
    signature: str | None = None,
    signed: bool = True,
    **kwargs: Any,
) -> TestResponse:
    timestamp = timestamp or now_stamp()
    headers = {"Content-Type": "application/json", "X-Zendesk-Webhook-Id": "01HZX"}
    if invocation is not None:
        headers["X-Zendesk-Webhook-Invocation-Id"] = invocation
    if signed:
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = timestamp
        headers["X-Zendesk-Webhook-Signature"] = signature or sign(body, timestamp)
    return client.post("/webhooks/zendesk", data=body, headers=headers, **kwargs)


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def stored(runtime: Runtime) -> list[InboundEvent]:
    with runtime.db.session() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def queued(runtime: Runtime) -> int:
    return int(runtime.huey.pending_count())


def expected_event(kind: str, ticket_id: int, status: str) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "actor_id": ACTOR,
        "updated_at": UPDATED,
        "status": status,
        "type": f"zen:event-type:{kind}",
        "kind": "event",
    }


HANDLED: dict[str, tuple[str, dict[str, Any]]] = {
    "ticket_changed__updated": (
        "ticket.changed",
        {
            "ticket_id": 5201,
            "actor_id": ACTOR,
            "updated_at": UPDATED,
            "status": "open",
            "type": "ticket.changed",
            "kind": "trigger",
        },
    ),
    "ticket_changed__created": (
        "ticket.changed",
        {
            "ticket_id": 5202,
            "actor_id": ACTOR,
            "updated_at": "2025-11-03T09:12:44Z",
            "status": "new",
            "type": "ticket.changed",
            "kind": "trigger",
        },
    ),
    "ticket_status_changed__solved": (
        "ticket.status_changed",
        {
            **expected_event("ticket.status_changed", 5175, "solved"),
            "updated_at": "2025-11-04T08:30:02Z",
        },
    ),
    **{
        name: (kind, expected_event(kind, ticket_id, status))
        for name, kind, ticket_id, status in [
            ("ticket_created__web_form", "ticket.created", 5158, "new"),
            ("ticket_status_changed__open", "ticket.status_changed", 5159, "open"),
            ("ticket_custom_status_changed__on_hold", "ticket.custom_status_changed", 5160, "hold"),
            ("ticket_type_changed__incident", "ticket.type_changed", 5161, "open"),
            ("ticket_problem_link_changed__linked", "ticket.problem_link_changed", 5162, "open"),
            (
                "ticket_custom_field_changed__jira_issue",
                "ticket.custom_field_changed",
                5163,
                "open",
            ),
            ("ticket_tags_changed__parcel_lost", "ticket.tags_changed", 5164, "open"),
            ("ticket_brand_changed__second_brand", "ticket.brand_changed", 5165, "open"),
            ("ticket_subject_changed__clarified", "ticket.subject_changed", 5166, "open"),
            ("ticket_organization_changed__assigned", "ticket.organization_changed", 5167, "open"),
            ("ticket_requester_changed__other_customer", "ticket.requester_changed", 5168, "open"),
            ("ticket_merged__into_other", "ticket.merged", 5169, "closed"),
            ("ticket_marked_as_spam__basic", "ticket.marked_as_spam", 5170, "deleted"),
            ("ticket_soft_deleted__basic", "ticket.soft_deleted", 5171, "deleted"),
            ("ticket_permanently_deleted__basic", "ticket.permanently_deleted", 5172, "deleted"),
            ("ticket_undeleted__basic", "ticket.undeleted", 5173, "open"),
        ]
    },
}
IGNORED = [
    "ticket_comment_added__public",
    "ticket_priority_changed__high",
    "ticket_agent_assignment_changed__basic",
]


def test_every_handled_fixture_is_listed_here() -> None:
    on_disk = {p.stem for p in FIXTURES.glob("*.json")}
    assert on_disk == set(HANDLED) | set(IGNORED)


@pytest.mark.parametrize("name", sorted(HANDLED))
def test_handled_event_is_stored_once_normalised_and_enqueued(
    client: FlaskClient, runtime: Runtime, name: str
) -> None:
    event_type, payload = HANDLED[name]
    response = post(client, raw(name), invocation="inv-1")
    assert response.status_code == 202, response.json
    assert response.json is not None
    assert response.json["status"] == "accepted"
    [event] = stored(runtime)
    assert response.json["event_id"] == event.id
    assert (event.source, event.event_type, event.subject_id) == (
        "zendesk",
        event_type,
        str(payload["ticket_id"]),
    )
    assert event.payload == payload
    assert event.delivery_id == "inv-1"
    assert event.content_hash == hashlib.sha256(raw(name)).hexdigest()
    assert event.state == "pending"
    assert queued(runtime) == 1


def test_a_repeated_delivery_and_the_same_content_under_another_id_are_stored_once(
    client: FlaskClient, runtime: Runtime
) -> None:
    body = raw("ticket_status_changed__open")
    first = post(client, body, invocation="inv-1")
    again = post(client, body, invocation="inv-1")
    other_id = post(client, body, invocation="inv-2")
    no_id = post(client, body)
    assert first.status_code == 202
    for response in (again, other_id, no_id):
        assert (response.status_code, response.json) == (200, {"status": "duplicate"})
    # Same invocation id with another body (a retry that Zendesk re-rendered) is a duplicate too.
    changed = body.replace(b'"OPEN"', b'"PENDING"', 1)
    assert post(client, changed, invocation="inv-1").json == {"status": "duplicate"}
    assert len(stored(runtime)) == 1
    assert queued(runtime) == 1


def test_without_an_invocation_id_the_content_hash_identifies_the_delivery(
    client: FlaskClient, runtime: Runtime
) -> None:
    body = raw("ticket_changed__updated")
    assert post(client, body).status_code == 202
    [event] = stored(runtime)
    assert event.delivery_id == event.content_hash == hashlib.sha256(body).hexdigest()


def test_an_absurd_invocation_id_is_hashed_to_fit(client: FlaskClient, runtime: Runtime) -> None:
    body = raw("ticket_changed__updated")
    assert post(client, body, invocation="x" * 500).status_code == 202
    assert post(client, body.replace(b"5201", b"5202"), invocation="x" * 500).json == {
        "status": "duplicate"
    }
    [event] = stored(runtime)
    assert event.delivery_id.startswith("sha256:") and len(event.delivery_id) <= 128


@pytest.mark.parametrize("name", IGNORED)
def test_deliberately_ignored_types_are_acknowledged_and_not_stored(
    client: FlaskClient, runtime: Runtime, name: str
) -> None:
    response = post(client, raw(name), invocation="inv-1")
    assert (response.status_code, response.json) == (200, {"status": "ignored"})
    assert stored(runtime) == []
    assert queued(runtime) == 0


def test_unknown_types_are_logged_acknowledged_and_not_stored(
    client: FlaskClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.loads(raw("ticket_status_changed__open"))
    body["type"] = "zen:event-type:ticket.teleported"
    with caplog.at_level(logging.INFO):
        response = post(client, json.dumps(body).encode())
    assert response.status_code == 200
    assert response.json == {"status": "ignored", "reason": "unknown event type"}
    assert stored(runtime) == []
    [record] = [r for r in caplog.records if r.getMessage() == "webhook.zendesk.unknown_type"]
    assert record.fields == {"type": "ticket.teleported"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ({"signature": sign(b"{}", now_stamp())}, "does not match"),
        ({"signature": "not base64 at all"}, "does not match"),
        ({"signed": False}, "missing"),
        ({"offset": -310}, "from now"),
        ({"offset": +310}, "from now"),
        ({"timestamp": "last tuesday"}, "RFC 3339"),
    ],
)
def test_bad_missing_stale_or_future_signatures_are_401_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, how: dict[str, Any], reason: str
) -> None:
    if "offset" in how:  # computed now, not at collection time
        how = {"timestamp": now_stamp(how["offset"])}
    response = post(client, raw("ticket_changed__updated"), **how)
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["status"] == "rejected"
    assert reason in response.json["reason"]
    assert SECRET not in response.get_data(as_text=True)
    assert stored(runtime) == []


def test_a_signature_with_another_secret_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    body, stamp = raw("ticket_changed__updated"), now_stamp()
    response = post(client, body, timestamp=stamp, signature=sign(body, stamp, "other"))
    assert response.status_code == 401
    assert stored(runtime) == []


def test_timestamps_inside_the_window_are_accepted(client: FlaskClient, runtime: Runtime) -> None:
    body = raw("ticket_changed__updated")
    stamp = (datetime.now(UTC) - timedelta(seconds=200)).isoformat()  # "+00:00", microseconds
    assert post(client, body, timestamp=stamp).status_code == 202


def test_without_a_configured_secret_every_delivery_is_refused_with_the_reason(
    runtime: Runtime,
) -> None:
    settings = runtime.settings.model_copy(update={"zendesk_webhook_secret": None})
    client = create_app(runtime=Runtime(settings, runtime.config)).test_client()
    response = post(client, raw("ticket_changed__updated"))
    assert response.status_code == 401
    assert response.json is not None
    assert "CONNECTOR_ZENDESK_WEBHOOK_SECRET is not set" in response.json["reason"]
    assert stored(runtime) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"ticket 5201 changed", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[" * 2000 + b"]" * 2000, "not valid JSON"),  # deeper than the parser's recursion
        (b'[{"ticket_id": "5201"}]', "body must be a JSON object"),
        (b'"5201"', "body must be a JSON object"),
        (b'{"source": "zendesk-trigger", "status": "Open"}', "ticket_id is missing"),
        (b'{"ticket_id": "{{ticket.id}}"}', "ticket_id must be"),
        (b'{"type": "zen:event-type:ticket.created", "detail": {}}', "ticket id is missing"),
    ],
)
def test_malformed_bodies_are_400_with_a_reason_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, body: bytes, reason: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["status"] == "malformed"
    assert reason in response.json["reason"]
    assert stored(runtime) == []


def padded(size: int) -> bytes:
    body = raw("ticket_changed__updated").rstrip()
    return body + b" " * (size - len(body))


def test_a_body_at_the_limit_is_accepted_and_one_byte_more_is_413(
    client: FlaskClient, runtime: Runtime
) -> None:
    assert post(client, padded(4096)).status_code == 202
    response = post(client, padded(4097), invocation="other")
    assert response.status_code == 413
    assert response.json is not None
    assert response.json["status"] == "too_large"
    assert len(stored(runtime)) == 1


def test_413_when_content_length_claims_too_much_or_is_absent(
    client: FlaskClient, runtime: Runtime
) -> None:
    body, stamp = raw("ticket_changed__updated"), now_stamp()
    headers = {
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": sign(body, stamp),
    }
    claims_more = client.post(
        "/webhooks/zendesk",
        data=body,
        headers=headers,
        environ_overrides={"CONTENT_LENGTH": "100000000"},
    )
    assert claims_more.status_code == 413
    # Chunked: no Content-Length at all; the limit still holds while reading.
    chunked = client.post(
        "/webhooks/zendesk",
        input_stream=io.BytesIO(padded(50_000)),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413
    assert stored(runtime) == []


def test_a_content_length_that_claims_less_never_lets_a_body_through_unverified(
    client: FlaskClient, runtime: Runtime
) -> None:
    big = padded(50_000)
    stamp = now_stamp()
    headers = {
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": sign(big, stamp),
    }
    response = client.post(
        "/webhooks/zendesk",
        input_stream=io.BytesIO(big),
        headers=headers,
        environ_overrides={"CONTENT_LENGTH": "100"},
    )
    assert response.status_code == 401  # only the first 100 bytes are read; they are not signed
    assert stored(runtime) == []


def test_get_is_not_allowed_and_not_a_500(client: FlaskClient) -> None:
    assert client.get("/webhooks/zendesk").status_code == 405


def test_new_invocation_ids_for_new_content_are_each_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    for ticket in range(1, 6):
        body = raw("ticket_changed__updated").replace(b"5201", str(ticket).encode())
        assert post(client, body, invocation=str(uuid.uuid4())).status_code == 202
    assert [e.subject_id for e in stored(runtime)] == ["1", "2", "3", "4", "5"]
    assert queued(runtime) == 5
