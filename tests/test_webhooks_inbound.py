"""Normalisation of webhook bodies, without HTTP: declared types, ids, enums, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.sync.inbound import (
    JIRA_HANDLED,
    JIRA_IGNORED,
    ZENDESK_HANDLED,
    ZENDESK_IGNORED,
    ZENDESK_TRIGGER_BODY,
    MalformedEvent,
    normalise_jira,
    normalise_zendesk,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(source: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))
    return data


def envelope(**changes: Any) -> dict[str, Any]:
    body = fixture("zendesk", "ticket_status_changed__open")
    body.update(changes)
    return body


def test_handled_and_ignored_types_are_disjoint_and_each_handled_one_has_a_fixture() -> None:
    assert not ZENDESK_HANDLED & ZENDESK_IGNORED
    assert not JIRA_HANDLED & JIRA_IGNORED
    zendesk = {p.stem.split("__")[0] for p in (FIXTURES / "zendesk").glob("*.json")}
    jira = {p.stem.split("__")[0] for p in (FIXTURES / "jira").glob("*.json")}
    assert {t.replace(".", "_") for t in ZENDESK_HANDLED} <= zendesk
    assert "trigger" in zendesk
    assert {t.removeprefix("jira:") for t in JIRA_HANDLED} <= jira


def test_the_documented_trigger_body_is_what_the_receiver_reads() -> None:
    body = json.loads(ZENDESK_TRIGGER_BODY)
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
    assert (event.disposition, event.event_type, event.subject_id) == (
        "handled",
        "ticket.changed",
        "77",
    )
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
        normalise_zendesk(json.loads(ZENDESK_TRIGGER_BODY))


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
