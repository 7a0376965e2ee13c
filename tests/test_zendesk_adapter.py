"""The Zendesk adapter, pinned at the HTTP level with `responses`: requests and error mapping."""

from __future__ import annotations

import base64
import json

import pytest
import requests
import responses

from connector.errors import AuthError, NotFoundError, PermanentError, TransientError
from connector.ratelimit import CallBudget
from connector.zendesk.client import ZendeskClient
from connector.zendesk.models import Comment, TicketUpdate

BASE = "https://acme.zendesk.com"


@pytest.fixture
def client() -> ZendeskClient:
    return ZendeskClient(BASE, "admin@example.com", "tok123", timeout=3)


def ticket(tid: int, **kw: object) -> dict[str, object]:
    return {
        "id": tid,
        "status": "open",
        "tags": [],
        "custom_fields": [{"id": 7, "value": "FIN-1"}],
        **kw,
    }


@responses.activate
def test_show_many_sends_ids_with_token_auth(client: ZendeskClient) -> None:
    responses.get(
        f"{BASE}/api/v2/tickets/show_many.json",
        match=[responses.matchers.query_param_matcher({"ids": "1,2"})],
        json={"tickets": [ticket(1), ticket(2, status="closed")]},
    )
    tickets = client.show_many([1, 2])
    assert [(t.id, t.status, t.field(7)) for t in tickets] == [
        (1, "open", "FIN-1"),
        (2, "closed", "FIN-1"),
    ]
    auth = responses.calls[0].request.headers["Authorization"]
    assert base64.b64decode(auth.split()[1]).decode() == "admin@example.com/token:tok123"
    assert client.calls["zendesk"] == 1


@responses.activate
def test_show_many_named_reads_the_names_in_the_same_call(client: ZendeskClient) -> None:
    responses.get(
        f"{BASE}/api/v2/tickets/show_many.json",
        match=[
            responses.matchers.query_param_matcher({"ids": "1,2", "include": "users,organizations"})
        ],
        json={
            "tickets": [ticket(1), ticket(2)],
            "users": [{"id": 361, "name": "Dana Scully", "role": "end-user", "email": None}],
            "organizations": [{"id": 362, "name": "Acme Corp", "organization_fields": {}}],
        },
    )
    read = client.show_many_named([1, 2])
    assert [t.id for t in read.tickets] == [1, 2]
    assert read.user_names() == {361: "Dana Scully"}
    assert read.organization_names() == {362: "Acme Corp"}
    assert client.calls["zendesk"] == 1
    with pytest.raises(ValueError, match="at most 100"):
        client.show_many_named(list(range(101)))


def test_show_many_refuses_more_than_100(client: ZendeskClient) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        client.show_many(list(range(101)))


@responses.activate
def test_update_many_same_uses_the_ids_form(client: ZendeskClient) -> None:
    responses.put(
        f"{BASE}/api/v2/tickets/update_many.json",
        match=[responses.matchers.query_param_matcher({"ids": "3,4"})],
        json={"job_status": {"id": "V3-abc", "status": "queued", "progress": None}},
    )
    update = TicketUpdate(
        comment=Comment(body="Fixed", public=True), status="solved", additional_tags=["replied"]
    )
    job = client.update_many_same([3, 4], update)
    assert job.id == "V3-abc" and job.status == "queued" and not job.finished
    assert json.loads(responses.calls[0].request.body) == {
        "ticket": {
            "status": "solved",
            "comment": {"body": "Fixed", "public": True},
            "additional_tags": ["replied"],
        }
    }


@responses.activate
def test_zendesk_429_becomes_transient_with_retry_after_and_is_not_retried_by_zenpy(
    client: ZendeskClient,
) -> None:
    responses.get(
        f"{BASE}/api/v2/users/me.json",
        status=429,
        headers={"Retry-After": "7"},
        json={"error": "TooManyRequests"},
    )
    with pytest.raises(TransientError) as info:
        client.me()
    assert info.value.retry_after == 7.0 and info.value.status == 429
    assert len(responses.calls) == 1  # zenpy's own sleep-and-retry never ran
    assert client.calls["zendesk.429"] == 1


@responses.activate
def test_closed_ticket_422_is_permanent_with_the_reason(client: ZendeskClient) -> None:
    body = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
    }
    responses.put(f"{BASE}/api/v2/tickets/9.json", status=422, json=body)
    with pytest.raises(PermanentError, match="closed prevents ticket update") as info:
        client.update_ticket(9, TicketUpdate(status="solved"))
    assert info.value.status == 422


@responses.activate
@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFoundError), (401, AuthError), (503, TransientError), (400, PermanentError)],
)
def test_status_codes_map_to_error_kinds(
    client: ZendeskClient, status: int, error: type[Exception]
) -> None:
    responses.get(
        f"{BASE}/api/v2/tickets/5.json", status=status, json={"error": "X", "description": "Y"}
    )
    with pytest.raises(error):
        client.get_ticket(5)


@responses.activate
def test_timeouts_and_connection_errors_are_transient(client: ZendeskClient) -> None:
    responses.get(f"{BASE}/api/v2/tickets/5.json", body=requests.ConnectTimeout("slow"))
    with pytest.raises(TransientError, match="ConnectTimeout"):
        client.get_ticket(5)


@responses.activate
def test_any_base_url_works_including_a_local_sandbox() -> None:
    local = ZendeskClient("http://127.0.0.1:8081", "a@b.c", "t")
    responses.get(
        "http://127.0.0.1:8081/api/v2/users/me.json", json={"user": {"id": 1, "name": "Admin"}}
    )
    assert local.me().id == 1


@responses.activate
def test_calls_take_from_the_shared_budget() -> None:
    budget = CallBudget("zd-test", per_minute=2)
    client = ZendeskClient(BASE, "a@b.c", "t", budget=budget)
    responses.get(f"{BASE}/api/v2/tickets/1.json", json={"ticket": ticket(1)})
    client.get_ticket(1)
    client.get_ticket(1)
    with pytest.raises(TimeoutError, match="budget"):
        budget.acquire(max_wait=0.1)


@responses.activate
def test_followup_for_a_closed_ticket(client: ZendeskClient) -> None:
    responses.post(
        f"{BASE}/api/v2/tickets.json", status=201, json={"ticket": ticket(77, status="open")}
    )
    created = client.create_followup(9, TicketUpdate(comment=Comment(body="Hi", public=True)))
    assert created.id == 77
    sent = json.loads(responses.calls[0].request.body)["ticket"]
    assert sent["via_followup_source_id"] == 9 and sent["comment"]["public"] is True
