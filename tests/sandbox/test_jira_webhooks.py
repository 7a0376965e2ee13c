"""Webhooks from the Jira sandbox reach a local receiver over HTTP, signed the documented way
(`X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`), retried with a stable
`X-Atlassian-Webhook-Identifier`, filtered by JQL, and duplicated/reordered/dropped on request."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request

from connector_sandboxes.jira import JiraSandbox
from connector_sandboxes.server import BackgroundServer

SECRET = "It's a Secret to Everybody"


class Receiver:
    """A tiny webhook endpoint that records raw requests and can fail on purpose."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_statuses: list[int] = []
        self._lock = threading.Lock()
        app = Flask("receiver")
        app.add_url_rule("/hook/<path:rest>", "hook", self._hook, methods=["POST"])
        self.server = BackgroundServer(app)

    def _hook(self, rest: str) -> tuple[str, int]:
        with self._lock:
            self.received.append(
                {"path": rest, "headers": dict(request.headers), "raw": request.get_data()}
            )
            status = self.fail_statuses.pop(0) if self.fail_statuses else 204
        return "", status

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["raw"]) for r in self.received if r["raw"]]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[JiraSandbox, Receiver]]:
    sb, receiver = JiraSandbox(seed=1), Receiver()
    sb.start()
    receiver.server.start()
    yield sb, receiver
    sb.stop()
    receiver.server.stop()


@pytest.fixture
def sb(servers: tuple[JiraSandbox, Receiver]) -> JiraSandbox:
    servers[0].reset()
    servers[1].received.clear()
    servers[1].fail_statuses.clear()
    return servers[0]


@pytest.fixture
def receiver(servers: tuple[JiraSandbox, Receiver], sb: JiraSandbox) -> Receiver:
    return servers[1]


def register(sb: JiraSandbox, receiver: Receiver, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "connector",
        "url": f"{receiver.server.url}/hook/jira",
        "events": [
            "jira:issue_created",
            "jira:issue_updated",
            "jira:issue_deleted",
            "comment_created",
        ],
        "filters": {"issue-related-events-section": "project in (ENG, FIN)"},
        "excludeBody": False,
        "secret": SECRET,
    }
    body.update(overrides)
    response = requests.post(
        f"{sb.url}/rest/webhooks/1.0/webhook",
        json=body,
        auth=("admin@example.com", "sandbox"),
        timeout=5,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def api(sb: JiraSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(
        method,
        f"{sb.url}/rest/api/2{path}",
        timeout=5,
        auth=("admin@example.com", "sandbox"),
        **kwargs,
    )
    assert response.ok, response.text
    return response


def create(sb: JiraSandbox, project: str = "ENG", summary: str = "Problem") -> str:
    fields = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": summary}
    return str(api(sb, "POST", "/issue", json={"fields": fields}).json()["key"])


def test_signed_deliveries_for_api_and_human_changes(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver)
    key = create(sb)
    sb.human_transition(key, "Done", resolution="Fixed")
    sb.human_comment(key, "Fixed in 2.0")
    assert sb.wait_for_deliveries(5)
    for delivery in receiver.received:
        expected = hmac.new(SECRET.encode(), delivery["raw"], hashlib.sha256).hexdigest()
        assert delivery["headers"]["X-Hub-Signature"] == f"sha256={expected}"
        assert delivery["headers"]["X-Atlassian-Webhook-Identifier"]
        assert "X-Atlassian-Webhook-Retry" not in delivery["headers"]
    events = [(b["webhookEvent"], b.get("issue_event_type_name")) for b in receiver.bodies()]
    assert events == [
        ("jira:issue_created", "issue_created"),
        ("jira:issue_updated", "issue_generic"),
        ("comment_created", None),
        ("jira:issue_updated", "issue_commented"),
    ]
    created, transitioned, commented = receiver.bodies()[:3]
    assert created["user"]["accountId"] == sb.api_account_id
    assert transitioned["user"]["accountId"] == sb.human_account_id
    assert transitioned["issue"]["key"] == key
    assert transitioned["issue"]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert transitioned["issue"]["fields"]["resolution"]["name"] == "Fixed"
    items = {i["field"]: i for i in transitioned["changelog"]["items"]}
    assert (items["status"]["fromString"], items["status"]["toString"]) == ("To Do", "Done")
    assert items["resolution"]["toString"] == "Fixed"
    assert commented["comment"]["body"] == "Fixed in 2.0"
    assert commented["comment"]["author"]["accountId"] == sb.human_account_id
    assert isinstance(created["timestamp"], int)


def test_unsigned_without_secret_and_jql_filter_applies(
    sb: JiraSandbox, receiver: Receiver
) -> None:
    register(sb, receiver, secret=None, events=["jira:issue_created"])
    create(sb, "DOC")
    create(sb, "FIN")
    assert sb.wait_for_deliveries(5)
    assert [b["issue"]["key"] for b in receiver.bodies()] == ["FIN-1"]
    assert "X-Hub-Signature" not in receiver.received[0]["headers"]


def test_retries_keep_the_identifier_and_count_retries(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_created"])
    receiver.fail_statuses[:] = [503, 429]
    create(sb)
    assert sb.wait_for_deliveries(5)
    headers = [r["headers"] for r in receiver.received]
    assert len(headers) == 3
    assert len({h["X-Atlassian-Webhook-Identifier"] for h in headers}) == 1
    assert [h.get("X-Atlassian-Webhook-Retry") for h in headers] == [None, "1", "2"]
    assert [d["status"] for d in sb.deliveries] == [503, 429, 204]


def test_client_errors_are_not_retried(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_created"])
    receiver.fail_statuses[:] = [400]
    create(sb)
    assert sb.wait_for_deliveries(5)
    assert len(receiver.received) == 1


def test_unreachable_receiver_is_retried_then_given_up(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, url="http://127.0.0.1:9/nowhere", events=["jira:issue_created"])
    sb.webhook_knobs(retry_delays=(0.01, 0.01))
    create(sb)
    assert sb.wait_for_deliveries(5)
    assert [d["retry"] for d in sb.deliveries] == [0, 1, 2]
    assert all(d["error"] for d in sb.deliveries)


def test_each_event_has_its_own_identifier(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver)
    key = create(sb)
    sb.human_update(key, priority="High")
    assert sb.wait_for_deliveries(5)
    ids = [r["headers"]["X-Atlassian-Webhook-Identifier"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 2


def test_duplicate_knob_sends_the_same_delivery_twice(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_created"])
    sb.webhook_knobs(duplicate=True)
    create(sb)
    assert sb.wait_for_deliveries(5)
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first["raw"] == second["raw"]
    assert (
        first["headers"]["X-Atlassian-Webhook-Identifier"]
        == second["headers"]["X-Atlassian-Webhook-Identifier"]
    )


def test_reorder_knob_delivers_newest_first(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_created", "jira:issue_updated"])
    sb.webhook_knobs(reorder=True, reorder_window=0.3)
    key = create(sb)
    sb.human_update(key, priority="Highest")
    sb.human_transition(key, "In Progress")
    assert sb.wait_for_deliveries(5)
    kinds = [b["webhookEvent"] for b in receiver.bodies()]
    assert kinds[-1] == "jira:issue_created" and len(kinds) == 3


def test_drop_knob_loses_deliveries_but_records_them(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_created"])
    sb.webhook_knobs(drop=True)
    create(sb)
    assert sb.wait_for_deliveries(5)
    assert receiver.received == []
    assert sb.deliveries[0]["error"] == "dropped by sandbox knob"


def test_exclude_body_expands_url_variables(sb: JiraSandbox, receiver: Receiver) -> None:
    register(
        sb,
        receiver,
        excludeBody=True,
        events=["jira:issue_created"],
        url=f"{receiver.server.url}/hook/${{issue.key}}",
    )
    create(sb)
    assert sb.wait_for_deliveries(5)
    assert receiver.received[0]["path"] == "ENG-1" and receiver.received[0]["raw"] == b""


def test_move_and_delete_events(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, filters={})
    key = create(sb, "FIN")
    new_key = sb.move_issue(key, "ENG")
    sb.delete_issue(new_key)
    assert sb.wait_for_deliveries(5)
    moved, deleted = receiver.bodies()[1:]
    assert moved["issue_event_type_name"] == "issue_moved" and moved["issue"]["key"] == new_key
    key_item = next(i for i in moved["changelog"]["items"] if i["field"] == "Key")
    assert (key_item["fromString"], key_item["toString"]) == (key, new_key)
    assert deleted["webhookEvent"] == "jira:issue_deleted"
    assert deleted["issue"]["id"] == moved["issue"]["id"]


def test_api_edits_fire_updated_with_changelog(sb: JiraSandbox, receiver: Receiver) -> None:
    register(sb, receiver, events=["jira:issue_updated"])
    key = create(sb)
    solution = sb.field_id("Customer solution")
    api(sb, "PUT", f"/issue/{key}", json={"fields": {solution: "Workaround: retry"}})
    api(sb, "PUT", f"/issue/{key}", json={"fields": {solution: "Workaround: retry"}})  # no-op
    assert sb.wait_for_deliveries(5)
    (body,) = receiver.bodies()
    (change,) = body["changelog"]["items"]
    assert (change["field"], change["fieldId"], change["toString"]) == (
        "Customer solution",
        solution,
        "Workaround: retry",
    )
    assert body["user"]["accountId"] == sb.api_account_id


def test_wait_for_deliveries_times_out_while_receiver_is_slow(
    sb: JiraSandbox, receiver: Receiver
) -> None:
    register(sb, receiver, url="http://127.0.0.1:9/x", events=["jira:issue_created"])
    sb.webhook_knobs(retry_delays=(0.5,))
    create(sb)
    assert sb.wait_for_deliveries(0.1) is False  # still retrying: it gave up waiting
    assert sb.wait_for_deliveries(5) is True


def test_data_center_10_has_its_own_webhook_resource_and_ignores_the_old_fields(
    receiver: Receiver,
) -> None:
    """Data Center 10 moved admin webhooks to /rest/jira-webhook/1.0/webhooks, with the JQL,
    excludeBody and secret inside `configuration`; the old body's top-level `filters` and
    `secret` are ignored there (all issues, unsigned), and the old resource answers 404."""
    dc = JiraSandbox(deployment_type="DataCenter")
    dc.start()
    pat = {"Authorization": "Bearer sandbox"}
    hooks = f"{dc.url}/rest/jira-webhook/1.0/webhooks"
    url = f"{receiver.server.url}/hook/dc"
    try:
        old = requests.get(f"{dc.url}/rest/webhooks/1.0/webhook", headers=pat, timeout=5)
        assert old.status_code == 404
        assert [c.split("?")[0] for c in dc.absent_calls] == ["GET /rest/webhooks/1.0/webhook"]
        ignored = {"filters": {"issue-related-events-section": "project = ENG"}, "secret": SECRET}
        loose = {"name": "old body", "url": url, "events": ["jira:issue_updated"], **ignored}
        made = requests.post(hooks, json=loose, headers=pat, timeout=5)
        assert made.status_code == 201 and "FILTERS" not in made.json()["configuration"]
        configuration = {"FILTERS": "project = ENG", "EXCLUDE_BODY": "false", "SECRET": SECRET}
        good = {"name": "new body", "url": url, "events": ["jira:issue_updated"], "active": True}
        made = requests.post(hooks, json={**good, "configuration": configuration}, headers=pat)
        hook = made.json()
        assert hook["configuration"] == {"FILTERS": "project = ENG", "EXCLUDE_BODY": "false"}
        assert hook["active"] is True and isinstance(hook["id"], int)

        dc.human_transition(dc.human_create("FIN", "Not ENG"), "In Progress")
        dc.human_transition(dc.human_create("ENG", "ENG"), "In Progress")
        assert dc.wait_for_deliveries(5)
        signed = [r for r in receiver.received if "X-Hub-Signature" in r["headers"]]
        unsigned = [r for r in receiver.received if "X-Hub-Signature" not in r["headers"]]
        assert len(unsigned) == 2  # the old body's webhook: every issue, no signature
        assert not any("X-Atlassian-Webhook-Identifier" in r["headers"] for r in signed)
        assert [json.loads(r["raw"])["issue"]["key"] for r in signed] == ["ENG-1"]

        # A PUT replaces the configuration whole: without SECRET, the webhook is unsigned.
        plain = {**good, "configuration": {"FILTERS": "project = ENG"}}
        assert requests.put(f"{hooks}/{hook['id']}", json=plain, headers=pat).ok
        receiver.received.clear()
        dc.human_transition("ENG-1", "Done")
        assert dc.wait_for_deliveries(5)
        assert receiver.received and all(
            "X-Hub-Signature" not in r["headers"] for r in receiver.received
        )
    finally:
        dc.stop()
