"""Webhooks, triggers and signed deliveries: the documented signature test vector, trigger bodies
with placeholders, event envelopes, retries, and the duplicate/reorder knobs, all received by a
local HTTP endpoint and verified the way the connector verifies them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from zendesk_client import Receiver, zenpy_client
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, CustomField, Ticket, TicketField, Webhook
from zenpy.lib.exception import APIException

from connector_sandboxes.zendesk import ZendeskSandbox
from connector_sandboxes.zendesk.delivery import sign

BODY = json.dumps(
    {
        "ticket": "{{ticket.id}}",
        "status": "{{ticket.status}}",
        "type": "{{ticket.ticket_type}}",
        "team": "{{ticket.ticket_field_FIELD}}",
        "team_title": "{{ticket.ticket_field_option_title_FIELD}}",
        "tags": "{{ticket.tags}}",
        "by": "{{current_user.id}}",
        "requester": "{{ticket.requester.id}}",
        "at": "{{ticket.updated_at_with_timestamp}}",
        "problem": "{{ticket.problem_id}}",
    }
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    sb = ZendeskSandbox(webhook_retry_delays=(0.05, 0.05, 0.05))
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def zd(sandbox: ZendeskSandbox) -> Zenpy:
    sandbox.reset()
    return zenpy_client(sandbox.url)


def verified(zd: Zenpy, delivery: dict[str, Any]) -> bool:
    """Check a delivery as the connector does: HMAC of timestamp + raw body, from the API secret."""
    headers = delivery["headers"]
    secret = zd.webhooks.show_secret(headers["x-zendesk-webhook-id"]).secret
    message = (headers["x-zendesk-webhook-signature-timestamp"] + delivery["body"]).encode()
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), headers["x-zendesk-webhook-signature"])


def make_webhook(zd: Zenpy, url: str, subscriptions: list[str]) -> str:
    webhook = Webhook(
        name="connector",
        endpoint=url,
        http_method="POST",
        request_format="json",
        status="active",
        subscriptions=subscriptions,
    )
    created: str = zd.webhooks.create(webhook).id
    return created


def test_signature_matches_the_documented_test_vector() -> None:
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    body = '{"event":"ticket.updated","id":123}'
    assert sign(secret, "2021-03-25T05:09:27Z", body) == (
        "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM="
    )


def test_webhook_crud_and_secret_reset(zd: Zenpy, receiver: Receiver) -> None:
    hook_id = make_webhook(zd, receiver.url, ["conditional_ticket_events"])
    assert len(hook_id) == 26 and zd.webhooks(id=hook_id).status == "active"
    assert [w.id for w in zd.webhooks.list()] == [hook_id]
    old = zd.webhooks.show_secret(hook_id)
    assert old.algorithm == "SHA256"
    new = zd.webhooks.reset_secret(hook_id)
    assert new.secret != old.secret
    assert zd.webhooks.show_secret(hook_id).secret == new.secret
    zd.webhooks.delete(zd.webhooks(id=hook_id))
    assert list(zd.webhooks.list()) == []


def test_inactive_webhooks_and_deleted_triggers_send_nothing(
    zd: Zenpy, sandbox: ZendeskSandbox, receiver: Receiver
) -> None:
    hook_id = make_webhook(zd, receiver.url, ["conditional_ticket_events"])
    http, base = zd.users.session, f"{sandbox.url}/api/v2"
    trigger = {
        "title": "On create",
        "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        "actions": [{"field": "notification_webhook", "value": [hook_id, '{"id": {{ticket.id}}}']}],
    }
    trigger_id = http.post(f"{base}/triggers.json", json={"trigger": trigger}).json()["trigger"][
        "id"
    ]
    assert http.patch(f"{base}/webhooks/{hook_id}", json={"webhook": {"status": "inactive"}}).ok
    sandbox.agent_create_ticket(subject="s", comment={"body": "b"})
    http.patch(f"{base}/webhooks/{hook_id}", json={"webhook": {"status": "active"}})
    renamed = http.put(f"{base}/triggers/{trigger_id}.json", json={"trigger": {"title": "New"}})
    assert renamed.json()["trigger"]["title"] == "New"
    ticket = sandbox.agent_create_ticket(subject="s", comment={"body": "b"})
    assert sandbox.wait_for_deliveries(5)
    assert receiver.bodies() == [{"id": ticket["id"]}]
    assert http.delete(f"{base}/triggers/{trigger_id}.json").status_code == 204
    sandbox.agent_create_ticket(subject="s", comment={"body": "b"})
    assert sandbox.wait_for_deliveries(5) and len(receiver.received) == 1


def test_trigger_renders_placeholders_and_delivers_signed(
    zd: Zenpy, sandbox: ZendeskSandbox, receiver: Receiver
) -> None:
    team = zd.ticket_fields.create(
        TicketField(
            type="tagger",
            title="Owning team",
            custom_field_options=[{"name": "Billing", "value": "team_billing"}],
        )
    )
    hook_id = make_webhook(zd, receiver.url, ["conditional_ticket_events"])
    trigger = {
        "title": "Notify connector",
        "conditions": {
            "all": [
                {"field": "update_type", "operator": "is", "value": "Change"},
                {"field": "current_via_id", "operator": "is_not", "value": "5"},
            ],
            "any": [
                {"field": f"custom_fields_{team.id}", "operator": "changed"},
                {"field": "type", "operator": "changed"},
            ],
        },
        "actions": [
            {
                "field": "notification_webhook",
                "value": [hook_id, BODY.replace("FIELD", str(team.id))],
            }
        ],
    }
    answer = zd.users.session.post(f"{sandbox.url}/api/v2/triggers.json", json={"trigger": trigger})
    assert answer.status_code == 201
    ticket = zd.tickets.create(Ticket(subject="s", comment=Comment(body="b"))).ticket
    ticket.type = "problem"
    zd.tickets.update(ticket)  # by the API user: excluded by current_via_id
    sandbox.agent_update_ticket(
        ticket.id, custom_fields=[{"id": team.id, "value": "team_billing"}], type="problem"
    )
    assert sandbox.wait_for_deliveries(5)
    assert len(receiver.received) == 1
    delivery = receiver.received[0]
    assert verified(zd, delivery)
    assert delivery["headers"]["x-zendesk-account-id"].isdigit()
    assert delivery["headers"]["x-zendesk-webhook-invocation-id"]
    payload = json.loads(delivery["body"])
    shown = sandbox.ticket(ticket.id)
    assert payload == {
        "ticket": str(ticket.id),
        "status": "New",
        "type": "Problem",
        "team": "team_billing",
        "team_title": "Billing",
        "tags": "team_billing",
        "by": str(sandbox.agent_user_id),
        "requester": str(sandbox.admin_user_id),
        "at": shown["updated_at"],
        "problem": "",
    }


def test_event_subscriptions_get_envelopes(
    zd: Zenpy, sandbox: ZendeskSandbox, receiver: Receiver
) -> None:
    kinds = [
        "created",
        "status_changed",
        "tags_changed",
        "custom_field_changed",
        "comment_added",
        "problem_link_changed",
    ]
    make_webhook(zd, receiver.url, [f"zen:event-type:ticket.{k}" for k in kinds])
    text = zd.ticket_fields.create(TicketField(type="text", title="Jira issue"))
    problem = zd.tickets.create(Ticket(subject="p", type="problem", comment=Comment(body="b")))
    ticket = zd.tickets.create(Ticket(subject="s", comment=Comment(body="b"))).ticket
    ticket.status = "open"
    ticket.tags = ["x"]
    ticket.type = "incident"
    ticket.problem_id = problem.ticket.id
    ticket.custom_fields = [CustomField(id=text.id, value="FIN-1")]
    ticket.comment = Comment(body="linked", public=False)
    zd.tickets.update(ticket)
    assert sandbox.wait_for_deliveries(5)
    assert all(verified(zd, d) for d in receiver.received)
    by_type = {b["type"].rsplit(".", 1)[1]: b for b in receiver.bodies()}
    assert set(by_type) == set(kinds)
    status = by_type["status_changed"]
    assert status["event"] == {"current": "OPEN", "previous": "NEW"}
    assert status["subject"] == f"zen:ticket:{ticket.id}" and status["detail"]["id"] == str(
        ticket.id
    )
    assert status["detail"]["type"] == "INCIDENT" and isinstance(status["account_id"], int)
    assert by_type["tags_changed"]["event"] == {"tags": {"added": ["x"], "removed": []}}
    field_event = by_type["custom_field_changed"]["event"]
    assert (field_event["current"], field_event["custom_field"]["id"]) == ("FIN-1", str(text.id))
    assert by_type["problem_link_changed"]["event"]["current"] == str(problem.ticket.id)
    assert by_type["comment_added"]["event"]["comment"]["is_public"] is False


def test_failed_deliveries_are_retried_with_the_same_invocation(
    zd: Zenpy, sandbox: ZendeskSandbox
) -> None:
    flaky = Receiver(codes=[503, 429])
    try:
        make_webhook(zd, flaky.url, ["zen:event-type:ticket.created"])
        zd.tickets.create(Ticket(subject="s", comment=Comment(body="b")))
        assert sandbox.wait_for_deliveries(5)
        invocations = {r["headers"]["x-zendesk-webhook-invocation-id"] for r in flaky.received}
        assert len(flaky.received) == 3 and len(invocations) == 1
        [record] = sandbox.deliveries
        assert [a["status_code"] for a in record["attempts"]] == [503, 429, 200]
        assert record["status"] == "success"
    finally:
        flaky.close()


def test_duplicate_and_reorder_knobs(
    zd: Zenpy, sandbox: ZendeskSandbox, receiver: Receiver
) -> None:
    make_webhook(zd, receiver.url, ["zen:event-type:ticket.created"])
    sandbox.webhook_knobs(duplicate=True)
    zd.tickets.create(Ticket(subject="s", comment=Comment(body="b")))
    assert sandbox.wait_for_deliveries(5)
    assert (
        len(receiver.received) == 2 and receiver.received[0]["body"] == receiver.received[1]["body"]
    )
    receiver.received.clear()
    sandbox.webhook_knobs(reorder=True)
    with sandbox.state.lock:  # several changes inside one delivery window
        ids = [
            sandbox.agent_create_ticket(subject=f"s{n}", comment={"body": "b"})["id"]
            for n in range(3)
        ]
    assert sandbox.wait_for_deliveries(5)
    assert [int(b["detail"]["id"]) for b in receiver.bodies()] == list(reversed(ids))


def test_unsupported_trigger_conditions_are_refused(
    zd: Zenpy, sandbox: ZendeskSandbox, receiver: Receiver
) -> None:
    hook_id = make_webhook(zd, receiver.url, ["conditional_ticket_events"])
    trigger = {
        "title": "t",
        "conditions": {"all": [{"field": "sla_policy", "operator": "is", "value": "1"}]},
        "actions": [{"field": "notification_webhook", "value": [hook_id, "{}"]}],
    }
    answer = zd.users.session.post(f"{sandbox.url}/api/v2/triggers.json", json={"trigger": trigger})
    assert answer.status_code == 422
    with pytest.raises(APIException):
        zd.webhooks.show_secret("01NOTAWEBHOOK0000000000000")
