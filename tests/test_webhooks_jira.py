"""`POST /webhooks/jira` through the full HTTP stack on SQLite and PostgreSQL: signed when a
secret is configured, unsigned accepted when not, de-duplicated, declared types only."""

from __future__ import annotations

import hashlib
import hmac
import json
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

SECRET = "jira-webhook-secret-for-tests"
FIXTURES = Path(__file__).parent / "fixtures" / "jira"
DANA = "5b10a2844c20165700ede21g"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        queue_path=str(tmp_path / "queue.db"),
        jira_webhook_secret=SecretStr(SECRET),
        event_coalesce_seconds=0,  # enqueue on every event: counted below
    )


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def unsigned_client(runtime: Runtime) -> FlaskClient:
    settings = runtime.settings.model_copy(update={"jira_webhook_secret": None})
    return create_app(runtime=Runtime(settings, runtime.config)).test_client()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(
    client: FlaskClient,
    body: bytes,
    *,
    identifier: str | None = None,
    signature: str | None = None,
    signed: bool = True,
) -> TestResponse:
    headers = {"Content-Type": "application/json"}
    if identifier is not None:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    if signed:
        headers["X-Hub-Signature"] = signature or sign(body)
    return client.post("/webhooks/jira", data=body, headers=headers)


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def stored(runtime: Runtime) -> list[InboundEvent]:
    with runtime.db.session() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


HANDLED: dict[str, dict[str, Any]] = {
    "issue_updated__status": {
        "issue_id": "10001",
        "issue_key": "FIN-123",
        "actor_account_id": DANA,
        "timestamp": 1762243200000,
        "webhook_event": "jira:issue_updated",
        "changelog_fields": ["resolution", "status"],
        "status_category": "done",
    },
    "issue_updated__due_date": {
        "issue_id": "10002",
        "issue_key": "ENG-7",
        "actor_account_id": DANA,
        "timestamp": 1762156800000,
        "webhook_event": "jira:issue_updated",
        "changelog_fields": ["duedate"],
        "status_category": "indeterminate",
    },
    "issue_updated__resolution": {
        "issue_id": "10004",
        "issue_key": "DOC-9",
        "actor_account_id": DANA,
        "timestamp": 1762416000000,
        "webhook_event": "jira:issue_updated",
        "changelog_fields": ["resolution"],
        "status_category": "done",
    },
    "issue_deleted__basic": {
        "issue_id": "10003",
        "issue_key": "SHIP-4",
        "actor_account_id": "5b10a2844c20165700ede21h",
        "timestamp": 1762329600000,
        "webhook_event": "jira:issue_deleted",
        "changelog_fields": [],
        "status_category": "new",
    },
    "comment_created__marker": {
        "issue_id": "10001",
        "issue_key": "FIN-123",
        "actor_account_id": DANA,
        "timestamp": 1762250400000,
        "webhook_event": "comment_created",
        "changelog_fields": [],
        "status_category": "done",
    },
    # Data Center's bodies name people by `name` and `key`, never `accountId`: the actor is the
    # key, as the connector's own identity is on Data Center (echo suppression compares them).
    "issue_updated__data_center": {
        "issue_id": "10001",
        "issue_key": "FIN-123",
        "actor_account_id": "JIRAUSER10100",
        "timestamp": 1762243200000,
        "webhook_event": "jira:issue_updated",
        "changelog_fields": ["resolution", "status"],
        "status_category": "done",
    },
    "comment_created__data_center": {
        "issue_id": "10001",
        "issue_key": "FIN-123",
        "actor_account_id": "JIRAUSER10100",
        "timestamp": 1762250400000,
        "webhook_event": "comment_created",
        "changelog_fields": [],
        "status_category": "done",
    },
}
IGNORED = ["issue_created__basic", "comment_updated__typo"]


def test_every_fixture_is_listed_here() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(HANDLED) | set(IGNORED)


@pytest.mark.parametrize("name", sorted(HANDLED))
def test_handled_event_is_stored_once_normalised_and_enqueued(
    client: FlaskClient, runtime: Runtime, name: str
) -> None:
    response = post(client, raw(name), identifier="d-1")
    assert response.status_code == 202, response.json
    [event] = stored(runtime)
    assert response.json == {"status": "accepted", "event_id": event.id}
    payload = HANDLED[name]
    assert (event.source, event.event_type, event.subject_id, event.delivery_id) == (
        "jira",
        payload["webhook_event"],
        payload["issue_id"],
        "d-1",
    )
    assert event.payload == payload
    assert runtime.huey.pending_count() == 1


@pytest.mark.parametrize("name", IGNORED)
def test_deliberately_ignored_events_are_acknowledged_and_not_stored(
    client: FlaskClient, runtime: Runtime, name: str
) -> None:
    response = post(client, raw(name))
    assert (response.status_code, response.json) == (200, {"status": "ignored"})
    assert stored(runtime) == []
    assert runtime.huey.pending_count() == 0  # nothing waits on it


def test_unknown_events_are_acknowledged_and_not_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    body = json.dumps({"webhookEvent": "board_created", "board": {"id": 1}}).encode()
    response = post(client, body)
    assert (response.status_code, response.json) == (
        200,
        {"status": "ignored", "reason": "unknown event type"},
    )
    assert stored(runtime) == []


def test_retries_with_the_same_identifier_and_the_same_content_are_stored_once(
    client: FlaskClient, runtime: Runtime
) -> None:
    body = raw("issue_updated__status")
    assert post(client, body, identifier="d-1").status_code == 202
    assert post(client, body, identifier="d-1").json == {"status": "duplicate"}
    assert post(client, body, identifier="d-2").json == {"status": "duplicate"}
    assert post(client, body).json == {"status": "duplicate"}
    other = raw("issue_updated__due_date")
    assert post(client, other, identifier="d-1").json == {"status": "duplicate"}
    assert post(client, other, identifier="d-3").status_code == 202
    assert [e.delivery_id for e in stored(runtime)] == ["d-1", "d-3"]


@pytest.mark.parametrize(
    "how",
    [
        {"signed": False},
        {"signature": "sha256=" + "0" * 64},
        {"signature": "sha256="},
        {"signature": "sha1=" + "0" * 40},
        {"signature": sign(b"{}")},
        {"signature": sign(b"", "other-secret")},
    ],
)
def test_when_a_secret_is_configured_unsigned_or_badly_signed_is_401(
    client: FlaskClient, runtime: Runtime, how: dict[str, Any]
) -> None:
    response = post(client, raw("issue_updated__status"), **how)
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["status"] == "rejected"
    assert SECRET not in response.get_data(as_text=True)
    assert stored(runtime) == []


def test_a_signature_made_with_another_secret_is_401(client: FlaskClient, runtime: Runtime) -> None:
    body = raw("issue_updated__status")
    assert post(client, body, signature=sign(body, "other-secret")).status_code == 401
    assert stored(runtime) == []


def test_without_a_secret_unsigned_deliveries_are_accepted(
    unsigned_client: FlaskClient, runtime: Runtime
) -> None:
    response = post(unsigned_client, raw("issue_updated__status"), signed=False, identifier="u")
    assert response.status_code == 202
    assert [e.delivery_id for e in stored(runtime)] == ["u"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<xml/>", "not valid JSON"),
        (b"[]", "body must be a JSON object"),
        (b'{"webhookEvent": "jira:issue_updated"}', "issue.id is missing"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "FIN-1"}}', "issue.id"),
        (b'{"webhookEvent": "comment_created", "issue": {"id": "1"}}', "issue.key is missing"),
        (b'{"issue": {"id": "1", "key": "FIN-1"}}', "webhookEvent is missing"),
    ],
)
def test_malformed_bodies_are_400_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, body: bytes, reason: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json is not None
    assert reason in response.json["reason"]
    assert stored(runtime) == []
