"""The vendor libraries never retry or sleep on their own, search follows the site, and the
adapters touch no private attribute of a library object (one documented exception)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests
import responses
from zenpy.lib import api as zenpy_api

from connector.errors import TransientError
from connector.jira.client import JiraClient
from connector.zendesk.client import ZendeskClient
from connector.zendesk.models import Comment, TicketUpdate

JIRA = "https://acme.atlassian.net"
ZD = "https://acme.zendesk.com"
ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"project": {"key": "FIN"}, "issuetype": {"name": "Task"}, "summary": "x"}


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records any sleep instead of sleeping: the libraries must never ask for one."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)  # jira's ResilientSession
    monkeypatch.setattr(zenpy_api, "sleep", slept.append)  # zenpy's 429 wait (`from time import`)
    return slept


def server_info(deployment: str) -> None:
    responses.get(
        f"{JIRA}/rest/api/2/serverInfo",
        json={"baseUrl": JIRA, "versionNumbers": [9, 12, 0], "deploymentType": deployment},
    )
    responses.get(
        f"{JIRA}/rest/api/2/field",
        json=[{"id": "status", "name": "Status", "clauseNames": ["status"]}],
    )


@responses.activate
def test_jira_create_on_429_is_one_post_with_retry_after(no_sleep: list[float]) -> None:
    server_info("Cloud")
    responses.post(f"{JIRA}/rest/api/2/issue", status=429, headers={"Retry-After": "11"})
    client = JiraClient(JIRA, email="a@b.c", api_token="t", timeout=3)
    with pytest.raises(TransientError) as info:
        client.create_issue(FIELDS)
    assert info.value.retry_after == 11.0 and info.value.status == 429
    assert [c.request.method for c in responses.calls] == ["POST"]
    assert client.calls["jira.429"] == 1 and no_sleep == []


@responses.activate
def test_jira_create_on_connection_error_is_never_resent(no_sleep: list[float]) -> None:
    responses.post(f"{JIRA}/rest/api/2/issue", body=requests.ConnectionError("reset"))
    client = JiraClient(JIRA, email="a@b.c", api_token="t", timeout=3)
    with pytest.raises(TransientError, match="ConnectionError"):
        client.create_issue(FIELDS)
    assert len(responses.calls) == 1 and no_sleep == []


@responses.activate
def test_jira_503_with_retry_after_through_a_library_call(no_sleep: list[float]) -> None:
    responses.post(
        f"{JIRA}/rest/api/2/issue/FIN-1/comment", status=503, headers={"Retry-After": "4"}
    )
    client = JiraClient(JIRA, pat="p", timeout=3)
    with pytest.raises(TransientError) as info:
        client.add_comment("FIN-1", "hello")
    assert info.value.retry_after == 4.0 and len(responses.calls) == 1 and no_sleep == []


@responses.activate
def test_zendesk_429_on_a_zenpy_write_is_one_call(no_sleep: list[float]) -> None:
    responses.put(
        f"{ZD}/api/v2/tickets/1.json",
        status=429,
        headers={"Retry-After": "30"},
        json={"error": "TooManyRequests"},
    )
    client = ZendeskClient(ZD, "a@b.c", "t", timeout=3)
    with pytest.raises(TransientError) as info:
        client.update_ticket(1, TicketUpdate(status="solved"))
    assert info.value.retry_after == 30.0 and len(responses.calls) == 1 and no_sleep == []


@responses.activate
def test_zendesk_updates_go_out_100_tickets_a_job_and_their_jobs_are_read_back() -> None:
    for n in (1, 2, 3):
        responses.put(
            f"{ZD}/api/v2/tickets/update_many.json",
            json={"job_status": {"id": f"J{n}", "status": "queued"}},
        )
    responses.get(
        f"{ZD}/api/v2/job_statuses/show_many.json",
        match=[responses.matchers.query_param_matcher({"ids": "J1"})],
        json={
            "job_statuses": [
                {
                    "id": "J1",
                    "status": "completed",
                    "results": [
                        {"id": 1, "success": True, "action": "update", "status": "Updated"},
                        {"id": 2, "success": False, "error": "TicketUpdateFailed"},
                    ],
                }
            ]
        },
    )
    client = ZendeskClient(ZD, "a@b.c", "t", timeout=3)
    note = TicketUpdate(comment=Comment(body="Hi", public=False))
    batches = list(client.update_in_batches(range(1, 251), note))
    assert [(len(ids), job.id) for ids, job in batches] == [(100, "J1"), (100, "J2"), (50, "J3")]
    first = responses.calls[0].request
    assert json.loads(first.body) == {"ticket": {"comment": {"body": "Hi", "public": False}}}
    assert first.params["ids"] == ",".join(map(str, range(1, 101)))
    [done] = client.job_statuses(["J1"])
    assert done.finished and [(r.id, r.success, r.error) for r in done.results or []] == [
        (1, True, None),
        (2, False, "TicketUpdateFailed"),
    ]


@responses.activate
@pytest.mark.parametrize(
    ("deployment", "path", "other"),
    [
        ("Cloud", "/rest/api/2/search/jql", "/rest/api/2/search"),
        ("Server", "/rest/api/2/search", "/rest/api/2/search/jql"),
    ],
)
def test_search_endpoint_follows_server_info(deployment: str, path: str, other: str) -> None:
    server_info(deployment)
    responses.get(f"{JIRA}{path}", json={"issues": [], "total": 0})
    client = JiraClient(JIRA, email="a@b.c", api_token="t", timeout=3)
    assert client.search("project = FIN", ["status"]).issues == []
    paths = [c.request.path_url.split("?")[0] for c in responses.calls]
    assert paths[0] == "/rest/api/2/serverInfo" and path in paths and other not in paths
    assert client.is_cloud is (deployment == "Cloud")


# `owner._name` where the owner is not our own `self`/`cls`: in the adapters every such owner
# is a library object (or a library class, or `self.jira` / `self.zenpy` / `self.session`).
PRIVATE = re.compile(r"(?<![\w.])(?!self\._|cls\._)[A-Za-z_]\w*(?:\.\w+)*\._[A-Za-z]\w*")
ADAPTERS = ("connector/zendesk", "connector/jira", "connector/transport.py")


def test_adapters_read_no_private_attribute_of_a_library_object() -> None:
    """Only `JIRA._session` is read, in one place: jira 3.10.5 exposes its session no other way."""
    hits = []
    for root in ADAPTERS:
        paths = [ROOT / root] if root.endswith(".py") else sorted((ROOT / root).rglob("*.py"))
        for path in paths:
            for line in path.read_text().splitlines():
                code = line.split("#", 1)[0]
                if '"""' not in line and "`" not in line and PRIVATE.search(code):
                    hits.append(f"{path.relative_to(ROOT)}: {code.strip()}")
    assert hits == ["connector/jira/library.py: session: requests.Session = client._session"]


def test_the_private_attribute_check_catches_library_access() -> None:
    for line in ("self.jira._session.get(url)", "zenpy.tickets._get(url)", "client._is_cloud"):
        assert PRIVATE.search(line), line
    for line in ("self._jira", "self.calls[self.side]", "cls._registry"):
        assert not PRIVATE.search(line), line
