"""The Jira sandbox's logins: the connector's API account and a human engineer, each with an
email + API token (and a PAT, for Data Center), each acting as itself through the REST API, so
the engineer's changes carry the engineer's accountId in the changelog, on comments and in the
webhook's `user`, as on a real site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from jira import JIRA

from connector_sandboxes.jira import JiraSandbox
from connector_sandboxes.server import BackgroundServer

ENGINEER = ("engineer@example.com", "engineer-sandbox")
EVENTS = ["jira:issue_updated", "comment_created"]


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        app = Flask("receiver")
        app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])
        self.server = BackgroundServer(app)

    def _hook(self) -> tuple[str, int]:
        self.bodies.append(json.loads(request.get_data()))
        return "", 204


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[JiraSandbox, Receiver]]:
    sb, receiver = JiraSandbox(), Receiver()
    sb.start()
    receiver.server.start()
    yield sb, receiver
    sb.stop()
    receiver.server.stop()


@pytest.fixture
def receiver(servers: tuple[JiraSandbox, Receiver]) -> Receiver:
    servers[1].bodies.clear()
    return servers[1]


@pytest.fixture
def sb(servers: tuple[JiraSandbox, Receiver]) -> JiraSandbox:
    servers[0].reset()
    servers[1].bodies.clear()
    return servers[0]


def client(sb: JiraSandbox, **auth: Any) -> JIRA:
    return JIRA(sb.url, options={"rest_api_version": "2"}, max_retries=0, timeout=10, **auth)


def test_the_engineer_logs_in_as_itself_by_api_token(sb: JiraSandbox) -> None:
    me = client(sb, basic_auth=ENGINEER).myself()
    assert (me["accountId"], me["emailAddress"]) == (sb.human_account_id, "engineer@example.com")
    assert me["displayName"] == "Erin Engineer"
    wrong = requests.get(
        sb.url + "/rest/api/2/myself", auth=("engineer@example.com", "sandbox"), timeout=5
    )
    assert wrong.status_code == 401
    roles = {a["role"]: (a["email"], a["token"], a["account_id"]) for a in sb.accounts()}
    assert roles == {
        "connector": ("admin@example.com", "sandbox", sb.api_account_id),
        "engineer": ("engineer@example.com", "engineer-sandbox", sb.human_account_id),
    }


def test_the_engineers_rest_changes_are_the_engineers(
    servers: tuple[JiraSandbox, Receiver], sb: JiraSandbox
) -> None:
    receiver = servers[1]
    admin = client(sb, basic_auth=("admin@example.com", "sandbox"))
    hook = {"name": "t", "url": f"{receiver.server.url}/hook", "events": ["jira:issue_updated"]}
    admin._session.post(sb.url + "/rest/webhooks/1.0/webhook", data=json.dumps(hook))
    key = admin.create_issue(
        fields={"project": "ENG", "summary": "Export crashes", "issuetype": "Bug"}
    ).key
    engineer = client(sb, basic_auth=ENGINEER)
    done = next(t["id"] for t in engineer.transitions(key) if t["name"] == "Done")
    engineer.transition_issue(key, done, resolution={"name": "Fixed"})
    engineer.add_comment(key, "Deployed the fix")
    assert sb.wait_for_deliveries()

    issue = sb.issue(key)
    assert issue["fields"]["status"]["name"] == "Done"
    authors = {h["author"]["accountId"] for h in issue["changelog"]["histories"]}
    assert authors == {sb.human_account_id}
    assert sb.comments(key)[0]["author"]["accountId"] == sb.human_account_id
    users = {body["user"]["accountId"] for body in receiver.bodies}
    assert receiver.bodies and users == {sb.human_account_id}


def test_the_engineer_has_a_pat_on_data_center() -> None:
    dc = JiraSandbox(deployment_type="DataCenter")
    dc.start()
    try:
        me = client(dc, token_auth="engineer-sandbox").myself()
        # Data Center names users by username and key; it has no accountId.
        assert (me["name"], me["key"]) == ("erin", "JIRAUSER10100") and "accountId" not in me
        assert client(dc, token_auth="sandbox").myself()["name"] == "connector"
    finally:
        dc.stop()


def test_data_center_names_people_by_name_and_key_everywhere(receiver: Receiver) -> None:
    dc = JiraSandbox(deployment_type="DataCenter")
    dc.start()
    try:
        admin = client(dc, token_auth="sandbox")
        admin._session.post(
            dc.url + "/rest/jira-webhook/1.0/webhooks",
            json={"name": "r", "url": f"{receiver.server.url}/hook", "events": EVENTS},
        ).raise_for_status()
        key = admin.create_issue(project="FIN", summary="s", issuetype={"name": "Task"}).key
        engineer = client(dc, token_auth="engineer-sandbox")
        engineer._session.put(
            f"{dc.url}/rest/api/2/issue/{key}", json={"fields": {"assignee": {"name": "erin"}}}
        ).raise_for_status()
        engineer.add_comment(key, "Looking")
        assert dc.wait_for_deliveries()
        issue = dc.issue(key)
        assert issue["fields"]["assignee"]["name"] == "erin"
        assert issue["fields"]["reporter"]["key"] == "JIRAUSER10000"
        assert dc.comments(key)[0]["author"]["key"] == "JIRAUSER10100"
        users = [b.get("user") or b["comment"]["author"] for b in receiver.bodies]
        assert users and all(u["key"] == "JIRAUSER10100" and "accountId" not in u for u in users)
        found = engineer._session.get(dc.url + "/rest/api/2/user", params={"username": "lee"})
        assert found.json()["displayName"] == "Lee Lead"
    finally:
        dc.stop()


def test_cloud_refuses_personal_access_tokens(sb: JiraSandbox) -> None:
    bearer = {"Authorization": "Bearer sandbox"}
    answer = requests.get(sb.url + "/rest/api/2/myself", headers=bearer, timeout=5)
    assert answer.status_code == 401


def test_only_the_api_account_manages_admin_webhooks(sb: JiraSandbox) -> None:
    answer = requests.get(sb.url + "/rest/webhooks/1.0/webhook", auth=ENGINEER, timeout=5)
    assert answer.status_code == 403 and answer.json()["errorMessages"]
    admin = requests.get(
        sb.url + "/rest/webhooks/1.0/webhook", auth=("admin@example.com", "sandbox"), timeout=5
    )
    assert admin.status_code == 200


def test_data_center_answers_404_on_cloud_only_endpoints_and_remembers_them() -> None:
    dc = JiraSandbox(deployment_type="DataCenter")
    dc.start()
    try:
        pat = {"Authorization": "Bearer sandbox"}
        info = requests.get(f"{dc.url}/rest/api/2/serverInfo", timeout=5).json()
        assert (info["deploymentType"], info["versionNumbers"][0]) == ("DataCenter", 10)
        for path in (
            "/rest/api/3/myself",
            "/rest/api/2/search/jql?jql=project%3DFIN",
            "/rest/api/2/issuetypescreenscheme/project?projectId=10000",
        ):
            answer = requests.get(dc.url + path, headers=pat, timeout=5)
            assert answer.status_code == 404, path
        assert [c.split("?")[0] for c in dc.absent_calls] == [
            "GET /rest/api/3/myself",
            "GET /rest/api/2/search/jql",
            "GET /rest/api/2/issuetypescreenscheme/project",
        ]
        assert requests.get(f"{dc.url}/rest/api/2/myself", headers=pat, timeout=5).ok
        assert requests.get(f"{dc.url}/rest/api/2/search", headers=pat, timeout=5).ok
    finally:
        dc.stop()
