"""The Zendesk sandbox's logins: the connector's API user and a human agent, each acting as
itself through the REST API (`email/token:TOKEN`), as in Zendesk: the email decides who made a
change, so the agent's changes carry the agent's id wherever Zendesk shows the actor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from zendesk_client import zenpy_client
from zenpy.lib.api_objects import Comment, Ticket
from zenpy.lib.exception import APIException

from connector_sandboxes.zendesk import ZendeskSandbox

AGENT = ("agent@example.com/token", "agent-sandbox")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    sb = ZendeskSandbox()
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox: ZendeskSandbox) -> str:
    sandbox.reset()
    return sandbox.url + "/api/v2"


def audit_authors(sandbox: ZendeskSandbox, ticket_id: int) -> list[int]:
    answer = requests.get(
        f"{sandbox.url}/api/v2/tickets/{ticket_id}/audits.json",
        auth=("admin@example.com/token", "sandbox"),
        timeout=5,
    )
    return [audit["author_id"] for audit in answer.json()["audits"]]


def test_the_agent_logs_in_as_itself_with_its_own_token(sandbox: ZendeskSandbox, api: str) -> None:
    me = requests.get(f"{api}/users/me.json", auth=AGENT, timeout=5).json()["user"]
    assert (me["id"], me["email"], me["role"]) == (
        sandbox.agent_user_id,
        "agent@example.com",
        "agent",
    )
    agent = zenpy_client(sandbox.url, email="agent@example.com", token="agent-sandbox")
    assert agent.users.me().id == sandbox.agent_user_id
    logins = {a["role"]: a["login"] for a in sandbox.accounts()}
    assert logins == {
        "connector": "admin@example.com/token:sandbox",
        "agent": "agent@example.com/token:agent-sandbox",
        "restricted": "riley@example.com/token:agent-sandbox",
    }


def test_the_restricted_agent_sees_only_tickets_assigned_to_them(
    sandbox: ZendeskSandbox, api: str
) -> None:
    mine = sandbox.agent_create_ticket(
        subject="Mine", comment={"body": "x"}, assignee_id=sandbox.restricted_user_id
    )
    other = sandbox.agent_create_ticket(subject="Not mine", comment={"body": "x"})
    riley = ("riley@example.com/token", "agent-sandbox")
    seen = requests.get(f"{api}/tickets/{mine['id']}.json", auth=riley, timeout=5)
    hidden = requests.get(f"{api}/tickets/{other['id']}.json", auth=riley, timeout=5)
    assert seen.status_code == 200
    assert hidden.status_code == 403 and hidden.json()["error"] == "Forbidden"
    user = requests.get(f"{api}/users/me.json", auth=riley, timeout=5).json()["user"]
    assert user["ticket_restriction"] == "assigned"


def test_the_agents_rest_changes_are_attributed_to_the_agent(
    sandbox: ZendeskSandbox, api: str
) -> None:
    agent = zenpy_client(sandbox.url, email="agent@example.com", token="agent-sandbox")
    ticket = agent.tickets.create(
        Ticket(subject="Double charge", comment=Comment(body="Charged twice"))
    ).ticket
    assert ticket.submitter_id == sandbox.agent_user_id
    put = requests.put(
        f"{api}/tickets/{ticket.id}.json",
        json={"ticket": {"status": "pending", "comment": {"body": "Looking", "public": False}}},
        auth=AGENT,
        timeout=5,
    )
    assert put.status_code == 200 and put.json()["audit"]["author_id"] == sandbox.agent_user_id
    job = requests.put(
        f"{api}/tickets/update_many.json?ids={ticket.id}",
        json={"ticket": {"additional_tags": ["checked"]}},
        auth=AGENT,
        timeout=5,
    ).json()["job_status"]
    assert sandbox.wait_for_jobs() and sandbox.job(job["id"])["status"] == "completed"
    assert audit_authors(sandbox, ticket.id) == [sandbox.agent_user_id] * 3
    assert {c["author_id"] for c in sandbox.comments(ticket.id)} == {sandbox.agent_user_id}


def test_the_connectors_own_changes_stay_the_connectors(sandbox: ZendeskSandbox, api: str) -> None:
    admin = zenpy_client(sandbox.url)
    ticket = admin.tickets.create(Ticket(subject="Parcel", comment=Comment(body="Lost"))).ticket
    assert audit_authors(sandbox, ticket.id) == [sandbox.admin_user_id]


def test_a_token_is_the_accounts_and_the_email_says_who_acts(
    sandbox: ZendeskSandbox, api: str
) -> None:
    # Zendesk: "not associated with a specific user; provide an agent's or admin's email"
    crossed = ("agent@example.com/token", "sandbox")
    me = requests.get(f"{api}/users/me.json", auth=crossed, timeout=5).json()["user"]
    assert me["id"] == sandbox.agent_user_id
    customer = sandbox.create_user("Jane Doe", "jane@example.com")
    for auth in (("jane@example.com/token", "sandbox"), ("agent@example.com/token", "nope")):
        answer = requests.get(f"{api}/users/me.json", auth=auth, timeout=5)
        assert answer.status_code == 401, auth
    assert customer["role"] == "end-user"


def test_admin_only_endpoints_answer_an_agent_403(sandbox: ZendeskSandbox, api: str) -> None:
    field = {"ticket_field": {"type": "text", "title": "Jira issue"}}
    webhook = {"webhook": {"name": "x", "endpoint": "https://example.com", "subscriptions": []}}
    for method, path, body in (
        ("POST", "/ticket_fields.json", field),
        ("POST", "/webhooks", webhook),
        ("GET", "/webhooks", None),
    ):
        answer = requests.request(method, api + path, json=body, auth=AGENT, timeout=5)
        assert answer.status_code == 403, path
        assert answer.json()["error"] == "Forbidden"
    assert requests.get(f"{api}/ticket_fields.json", auth=AGENT, timeout=5).status_code == 200
    agent = zenpy_client(sandbox.url, email="agent@example.com", token="agent-sandbox")
    with pytest.raises(APIException):
        agent.webhooks.list()


def test_an_agent_restricted_to_groups_sees_their_groups_tickets(
    sandbox: ZendeskSandbox, api: str
) -> None:
    riley_id = sandbox.restricted_user_id
    sandbox.set_ticket_restriction(riley_id, "groups")
    group = sandbox.create_group("Billing desk", [riley_id])
    mine = sandbox.agent_create_ticket(subject="In", comment={"body": "x"}, group_id=group["id"])
    other = sandbox.agent_create_ticket(subject="Out", comment={"body": "x"})
    riley = ("riley@example.com/token", "agent-sandbox")
    memberships = requests.get(
        f"{api}/users/{riley_id}/group_memberships.json", auth=riley, timeout=5
    ).json()["group_memberships"]
    assert [m["group_id"] for m in memberships] == [group["id"]]
    assert requests.get(f"{api}/tickets/{mine['id']}.json", auth=riley, timeout=5).ok
    hidden = requests.get(f"{api}/tickets/{other['id']}.json", auth=riley, timeout=5)
    assert hidden.status_code == 403
