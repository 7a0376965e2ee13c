"""The Jira adapter, pinned at the HTTP level with `responses`: requests and error mapping."""

from __future__ import annotations

import json

import pytest
import responses

from connector.errors import AuthError, NotFoundError, TransientError
from connector.jira.client import JiraClient

BASE = "https://acme.atlassian.net"
SERVER_INFO = {
    "baseUrl": BASE,
    "version": "1001.0.0",
    "deploymentType": "Cloud",
    "versionNumbers": [1001, 0, 0],
}


@pytest.fixture
def client() -> JiraClient:
    return JiraClient(BASE, email="admin@example.com", api_token="tok", timeout=3)


def server_info(deployment: str = "Cloud") -> None:
    responses.get(
        f"{BASE}/rest/api/2/serverInfo", json={**SERVER_INFO, "deploymentType": deployment}
    )


def field_list() -> None:
    """The library reads `/field` once per client to translate JQL clause names in `fields`."""
    responses.get(
        f"{BASE}/rest/api/2/field",
        json=[{"id": "status", "name": "Status", "clauseNames": ["status"]}],
    )


def issue_json(
    key: str = "FIN-1", status: str = "Done", category: str = "done"
) -> dict[str, object]:
    return {
        "id": "10001",
        "key": key,
        "fields": {
            "summary": "Double charge",
            "project": {"key": key.split("-")[0]},
            "status": {"name": status, "statusCategory": {"key": category}},
            "resolution": {"name": "Fixed"},
            "priority": {"name": "High"},
            "duedate": "2026-12-01",
            "fixVersions": [{"name": "1.2", "releaseDate": "2026-12-05"}],
            "labels": ["customer-impact"],
            "updated": "2026-11-26T00:54:34.000+0000",
        },
    }


@responses.activate
def test_create_issue_is_one_post_with_the_fields(client: JiraClient) -> None:
    server_info()
    responses.post(
        f"{BASE}/rest/api/2/issue", status=201, json={"id": "10001", "key": "FIN-1", "self": "x"}
    )
    fields = {"project": {"key": "FIN"}, "issuetype": {"name": "Task"}, "summary": "Double charge"}
    assert client.create_issue(fields) == ("10001", "FIN-1")
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert json.loads(posts[0].request.body) == {"fields": fields}


@responses.activate
def test_get_issue_parses_the_mirrored_facts(client: JiraClient) -> None:
    server_info()
    responses.get(f"{BASE}/rest/api/2/issue/10001", json=issue_json())
    issue = client.get_issue("10001")
    assert (issue.id, issue.key, issue.project, issue.status_category, issue.resolution) == (
        "10001",
        "FIN-1",
        "FIN",
        "done",
        "Fixed",
    )
    assert str(issue.due_date) == "2026-12-01" and issue.fix_version == "1.2"
    assert issue.updated is not None and issue.updated.utcoffset() is not None


@responses.activate
def test_429_is_transient_with_retry_after_and_the_library_does_not_retry(
    client: JiraClient,
) -> None:
    server_info()
    responses.put(f"{BASE}/rest/api/2/issue/FIN-1", status=429, headers={"Retry-After": "3"})
    with pytest.raises(TransientError) as info:
        client.update_issue("FIN-1", {"priority": {"name": "High"}})
    assert info.value.retry_after == 3.0
    assert len([c for c in responses.calls if c.request.method == "PUT"]) == 1


@responses.activate
def test_unauthorised_and_missing(client: JiraClient) -> None:
    server_info()
    responses.get(
        f"{BASE}/rest/api/2/issue/FIN-404",
        status=404,
        json={"errorMessages": ["Issue does not exist"], "errors": {}},
    )
    responses.get(f"{BASE}/rest/api/2/myself", status=401, json={"errorMessages": ["nope"]})
    with pytest.raises(NotFoundError, match="Issue does not exist"):
        client.get_issue("FIN-404")
    with pytest.raises(AuthError):
        client.myself()


@responses.activate
def test_cloud_search_uses_search_jql_with_page_tokens(client: JiraClient) -> None:
    server_info()
    field_list()
    responses.get(
        f"{BASE}/rest/api/2/search/jql",
        match=[
            responses.matchers.query_param_matcher(
                {"jql": "project = FIN", "fields": "status", "maxResults": "1"}
            )
        ],
        json={"issues": [issue_json()], "nextPageToken": "tok2"},
    )
    page = client.search("project = FIN", ["status"], limit=1)
    assert [i.key for i in page.issues] == ["FIN-1"] and page.next_page_token == "tok2"


@responses.activate
def test_data_center_search_uses_start_at() -> None:
    server_info("Server")
    field_list()
    client = JiraClient(BASE, pat="pat-1", timeout=3)
    responses.get(
        f"{BASE}/rest/api/2/search", json={"issues": [issue_json()], "total": 2, "startAt": 0}
    )
    page = client.search("project = FIN", ["status"], limit=1)
    assert page.next_page_token == "1"
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer pat-1"


@responses.activate
def test_server_unreachable_is_transient(client: JiraClient) -> None:
    with pytest.raises(TransientError):
        client.server_info()


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError, match="API token"):
        JiraClient(BASE, email="a@b.c")


@responses.activate
def test_remote_link_is_one_upsert_by_global_id_without_an_applinks_lookup(
    client: JiraClient,
) -> None:
    responses.post(f"{BASE}/rest/api/2/issue/FIN-1/remotelink", json={"id": 7}, status=201)
    client.upsert_remote_link(
        "FIN-1", "zendesk-problem-10001", "https://acme.zendesk.com/agent/tickets/3", "Ticket #3"
    )
    assert [c.request.url for c in responses.calls] == [f"{BASE}/rest/api/2/issue/FIN-1/remotelink"]
    assert json.loads(responses.calls[0].request.body) == {
        "globalId": "zendesk-problem-10001",
        "application": {"type": "com.zendesk", "name": "Zendesk"},
        "relationship": "Zendesk",
        "object": {
            "url": "https://acme.zendesk.com/agent/tickets/3",
            "title": "Ticket #3",
            "summary": "",
        },
    }


ME_CLOUD = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Connector"}
ME_DC = {"name": "connector", "key": "JIRAUSER10000", "displayName": "Connector"}


@responses.activate
@pytest.mark.parametrize(
    ("deployment", "me", "identity"),
    [("Cloud", ME_CLOUD, ME_CLOUD["accountId"]), ("DataCenter", ME_DC, "JIRAUSER10000")],
)
def test_own_identity_is_named_as_webhook_bodies_name_the_actor(
    deployment: str, me: dict[str, str], identity: str
) -> None:
    """Cloud: the accountId. Data Center: the user key, which its webhook bodies and comment
    authors carry too (they have no accountId; the username can be renamed)."""
    server_info(deployment)
    responses.get(f"{BASE}/rest/api/2/myself", json=me)
    client = JiraClient(BASE, pat="pat-1", timeout=3)
    assert client.own_identity() == identity


@responses.activate
def test_my_permissions_reads_have_permission() -> None:
    responses.get(
        f"{BASE}/rest/api/2/mypermissions",
        json={
            "permissions": {
                "ADMINISTER": {"key": "ADMINISTER", "havePermission": False},
                "BROWSE_PROJECTS": {"key": "BROWSE_PROJECTS", "havePermission": True},
            }
        },
    )
    client = JiraClient(BASE, pat="pat-1", timeout=3)
    held = client.my_permissions(["ADMINISTER", "BROWSE_PROJECTS"])
    assert held == {"ADMINISTER": False, "BROWSE_PROJECTS": True}
    assert "permissions=ADMINISTER,BROWSE_PROJECTS" in responses.calls[-1].request.url
