"""The vendors' normalisation of webhook bodies, without HTTP: declared types, ids, enums, the
model read back by sync, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.inbound_model import IssueChange, MalformedEvent, NormalisedEvent, TicketChange
from connector.jira import webhook as jira_webhook
from connector.store.models import InboundEvent
from connector.sync.jira_events import issues_to_read
from connector.sync.zendesk_events import tickets_to_read
from connector.zendesk import webhook as zendesk_webhook

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(source: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))
    return data


def normalise_zendesk(body: Any) -> NormalisedEvent:
    return zendesk_webhook.normalise(json.dumps(body).encode(), "inv-1")


def normalise_jira(body: Any) -> NormalisedEvent:
    return jira_webhook.normalise(json.dumps(body).encode(), "d-1")


def envelope(**changes: Any) -> dict[str, Any]:
    body = fixture("zendesk", "ticket_status_changed__open")
    body.update(changes)
    return body


def test_handled_and_ignored_types_are_disjoint_and_the_trigger_is_a_handled_shape() -> None:
    assert not zendesk_webhook.HANDLED & set(zendesk_webhook.IGNORED)
    assert not jira_webhook.HANDLED & set(jira_webhook.IGNORED)
    assert zendesk_webhook.TRIGGER_EVENT in zendesk_webhook.HANDLED
    assert all(zendesk_webhook.IGNORED.values()) and all(jira_webhook.IGNORED.values())


def test_the_documented_trigger_body_is_what_the_receiver_reads() -> None:
    body = json.loads(zendesk_webhook.TRIGGER_BODY)
    assert body == {
        "source": "zendesk-trigger",
        "event": "ticket.changed",
        "ticket_id": "{{ticket.id}}",
        "updated_at": "{{ticket.updated_at_with_timestamp}}",
        "actor_id": "{{current_user.id}}",
        "status": "{{ticket.status}}",
    }
    rendered = {**body, "ticket_id": "77", "actor_id": "12", "status": "Pending"}
    rendered["updated_at"] = "2025-11-03T10:05:31Z"
    event = normalise_zendesk(rendered)
    assert (event.source, event.disposition, event.event_type, event.subject_id) == (
        "zendesk",
        "handled",
        "ticket.changed",
        "77",
    )
    assert event.delivery_id == "inv-1"
    assert event.occurred_at == datetime(2025, 11, 3, 10, 5, 31, tzinfo=UTC)
    assert event.payload == {
        "ticket_id": 77,
        "actor_id": 12,
        "updated_at": "2025-11-03T10:05:31Z",
        "status": "pending",
        "type": "ticket.changed",
        "kind": "trigger",
    }


def test_an_unrendered_placeholder_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="ticket_id"):
        normalise_zendesk(json.loads(zendesk_webhook.TRIGGER_BODY))


def test_envelope_string_ids_become_ints_and_enums_lower_case() -> None:
    event = normalise_zendesk(envelope())
    assert event.event_type == "ticket.status_changed"
    assert event.payload["ticket_id"] == 5159
    assert event.payload["actor_id"] == 900000000123
    assert event.payload["status"] == "open"
    assert event.payload["type"] == "zen:event-type:ticket.status_changed"


def test_envelope_without_detail_id_takes_the_ticket_from_the_subject() -> None:
    body = envelope(detail={"status": "SOLVED"})
    event = normalise_zendesk(body)
    assert event.subject_id == "5159"
    assert event.payload["actor_id"] is None
    assert event.payload["updated_at"] == body["time"]  # detail.updated_at absent


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "body must be a JSON object"),
        ("ticket", "body must be a JSON object"),
        ({}, "ticket_id is missing"),
        ({"source": "zendesk-trigger", "ticket_id": "abc"}, "ticket_id must be"),
        ({"ticket_id": 0}, "ticket_id must be"),
        ({"ticket_id": -4}, "ticket_id must be"),
        ({"ticket_id": True}, "ticket_id must be"),
        ({"ticket_id": 1.5}, "ticket_id must be"),
        ({"ticket_id": "9" * 30}, "ticket_id must be"),
        ({"ticket_id": "٣"}, "ticket_id must be"),  # a digit, but not ASCII
        ({"ticket_id": 5, "status": 3}, "status must be a string"),
        ({"ticket_id": 5, "updated_at": "x" * 300}, "updated_at is longer"),
        ({"ticket_id": 5, "actor_id": "{{current_user.id}}"}, "actor_id must be"),
        ({"type": 7}, "type must be a string"),
        ({"type": ""}, "type is missing"),
    ],
)
def test_malformed_zendesk_bodies_say_what_is_wrong(body: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        normalise_zendesk(body)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"detail": {}, "subject": "zen:user:5"}, "ticket id is missing"),
        ({"detail": []}, "detail must be a JSON object"),
        ({"detail": {"id": "12a"}}, "detail.id must be"),
        ({"detail": {"id": "12", "status": ["OPEN"]}}, "detail.status must be a string"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        normalise_zendesk(envelope(**changes))


def test_ignored_and_unknown_zendesk_types_need_no_ticket() -> None:
    ignored = normalise_zendesk({"type": "zen:event-type:ticket.comment_added"})
    unknown = normalise_zendesk({"type": "zen:event-type:ticket.teleported", "detail": 5})
    assert (ignored.disposition, ignored.event_type, ignored.payload) == (
        "ignored",
        "ticket.comment_added",
        {},
    )
    assert (unknown.disposition, unknown.event_type) == ("unknown", "ticket.teleported")


def test_jira_issue_updated_is_normalised() -> None:
    event = normalise_jira(fixture("jira", "issue_updated__status"))
    assert (event.source, event.delivery_id) == ("jira", "d-1")
    assert event.occurred_at == datetime(2025, 11, 4, 8, 0, tzinfo=UTC)  # 1762243200000 ms
    assert (event.disposition, event.event_type, event.subject_id) == (
        "handled",
        "jira:issue_updated",
        "10001",
    )
    assert event.payload == {
        "issue_id": "10001",
        "issue_key": "FIN-123",
        "actor_account_id": "5b10a2844c20165700ede21g",
        "timestamp": 1762243200000,
        "webhook_event": "jira:issue_updated",
        "changelog_fields": ["resolution", "status"],
        "status_category": "done",
    }


def test_jira_comment_actor_is_the_comment_author() -> None:
    body = fixture("jira", "comment_created__marker")
    assert "user" not in body
    assert normalise_jira(body).payload["actor_account_id"] == "5b10a2844c20165700ede21g"


def test_jira_numeric_issue_id_becomes_a_string() -> None:
    body = fixture("jira", "issue_deleted__basic")
    body["issue"]["id"] = 10003
    assert normalise_jira(body).payload["issue_id"] == "10003"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("issue"), "issue.id is missing"),
        (lambda b: b["issue"].pop("id"), "issue.id is missing"),
        (lambda b: b["issue"].update(id="FIN-1"), "issue.id must be a numeric id"),
        (lambda b: b["issue"].pop("key"), "issue.key is missing"),
        (lambda b: b.update(issue="10001"), "issue must be a JSON object"),
        (lambda b: b.update(timestamp="yesterday"), "timestamp must be"),
        (lambda b: b.update(changelog={"items": {}}), "changelog.items must be a list"),
        (lambda b: b.update(changelog={"items": [{"field": 1}]}), "field must be a string"),
        (lambda b: b.update(user=[]), "user must be a JSON object"),
        (lambda b: b["issue"]["fields"].update(status="Done"), "status must be a JSON object"),
        (lambda b: b.update(webhookEvent=None), "webhookEvent is missing"),
    ],
)
def test_malformed_jira_bodies_say_what_is_wrong(change: Any, message: str) -> None:
    body = fixture("jira", "issue_updated__status")
    change(body)
    with pytest.raises(MalformedEvent, match=message):
        normalise_jira(body)


def test_ignored_and_unknown_jira_events() -> None:
    assert normalise_jira({"webhookEvent": "comment_updated"}).disposition == "ignored"
    assert normalise_jira({"webhookEvent": "jira:issue_created"}).disposition == "ignored"
    assert normalise_jira({"webhookEvent": "board_configuration_changed"}).disposition == (
        "unknown"
    )


def test_an_unreadable_trigger_timestamp_is_an_unknown_time_not_an_error() -> None:
    event = normalise_zendesk({"ticket_id": "5", "updated_at": "November 3, 2025 10:05"})
    assert event.occurred_at is None
    assert event.payload["updated_at"] == "November 3, 2025 10:05"


def test_a_jira_timestamp_beyond_year_9999_is_malformed() -> None:
    body = fixture("jira", "issue_updated__status")
    body["timestamp"] = 2**62
    with pytest.raises(MalformedEvent, match="timestamp must be"):
        normalise_jira(body)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("zendesk", "ticket_changed__updated"),
        ("zendesk", "ticket_status_changed__open"),
        ("jira", "issue_updated__status"),
        ("jira", "comment_created__marker"),
    ],
)
def test_sync_reads_back_exactly_the_change_that_was_stored(source: str, name: str) -> None:
    normalise = normalise_zendesk if source == "zendesk" else normalise_jira
    event = normalise(fixture(source, name))
    stored = json.loads(json.dumps(event.payload))  # what a JSON column gives back
    model = TicketChange if source == "zendesk" else IssueChange
    assert model.from_payload(stored) == event.change


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "payload must be a JSON object"),
        ({}, "payload.kind is missing"),
        ({"kind": "trigger", "type": "ticket.changed"}, "payload.ticket_id is missing"),
        ({"kind": "trigger", "type": "ticket.changed", "ticket_id": "x"}, "ticket_id must be"),
        ({"kind": "email", "type": "ticket.changed", "ticket_id": 5}, "payload.kind must be"),
        ({"kind": "event", "type": "t", "ticket_id": 5, "actor_id": [1]}, "actor_id must be"),
    ],
)
def test_a_wrong_stored_ticket_payload_fails_loudly(payload: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        TicketChange.from_payload(payload)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issue_id": None}, "payload.issue_id is missing"),
        ({"issue_id": "FIN-1"}, "payload.issue_id must be a numeric id"),
        ({"issue_key": 7}, "payload.issue_key must be a string"),
        ({"webhook_event": None}, "payload.webhook_event is missing"),
        ({"changelog_fields": "status"}, "changelog_fields must be a list"),
        ({"timestamp": "now"}, "timestamp must be"),
    ],
)
def test_a_wrong_stored_issue_payload_fails_loudly(change: dict[str, Any], message: str) -> None:
    payload = normalise_jira(fixture("jira", "issue_updated__status")).payload | change
    with pytest.raises(MalformedEvent, match=message):
        IssueChange.from_payload(payload)


def stored_row(source: str, name: str) -> InboundEvent:
    normalise = normalise_zendesk if source == "zendesk" else normalise_jira
    event = normalise(fixture(source, name))
    return InboundEvent(source=source, event_type=event.event_type, payload=event.payload)


def test_sync_reads_tickets_and_actors_from_the_stored_change_and_skips_its_own() -> None:
    trigger, envelope = (
        stored_row("zendesk", "ticket_changed__updated"),
        stored_row("zendesk", "ticket_status_changed__open"),
    )
    assert tickets_to_read([trigger, envelope], own_user_id=None) == (
        [5159, 5201],
        {5159: 900000000123, 5201: 900000000123},
    )
    # Both were changed by the connector's own API user: nothing to re-read.
    assert tickets_to_read([trigger, envelope], own_user_id=900000000123) == ([], {})
    broken = InboundEvent(source="zendesk", event_type="ticket.changed", payload={"kind": "x"})
    with pytest.raises(MalformedEvent, match="kind must be trigger or event"):
        tickets_to_read([envelope, broken], own_user_id=None)


def test_sync_reads_issues_from_the_stored_change_and_skips_its_own_account() -> None:
    updated = stored_row("jira", "issue_updated__status")
    deleted = stored_row("jira", "issue_deleted__basic")
    assert issues_to_read([updated, deleted], own_account=None) == {
        "10001": "jira:issue_updated",
        "10003": "jira:issue_deleted",
    }
    assert issues_to_read([updated, deleted], own_account="5b10a2844c20165700ede21g") == {
        "10003": "jira:issue_deleted"
    }
    with pytest.raises(MalformedEvent, match="payload must be a JSON object"):
        issues_to_read([InboundEvent(source="jira", payload=None)], own_account=None)
