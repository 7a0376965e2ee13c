"""Rate limiting, injected faults, counters, reset, the `/_sandbox` control API and moving
issues between projects, seen through HTTP as a client would see them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from connector_sandboxes.jira import JiraSandbox

AUTH = ("admin@example.com", "sandbox")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[JiraSandbox]:
    sb = JiraSandbox(seed=7)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def sb(sandbox: JiraSandbox) -> Iterator[JiraSandbox]:
    sandbox.reset()
    yield sandbox
    sandbox.set_rate_limit(None)


def get(sb: JiraSandbox, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{sb.url}{path}", auth=AUTH, timeout=5, **kwargs)


def create(sb: JiraSandbox, project: str = "FIN") -> dict[str, Any]:
    fields = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "Problem"}
    response = requests.post(
        f"{sb.url}/rest/api/2/issue", json={"fields": fields}, auth=AUTH, timeout=5
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_rate_limit_answers_429_with_retry_after(sb: JiraSandbox) -> None:
    sb.set_rate_limit(3, window_seconds=30)
    statuses = [get(sb, "/rest/api/2/myself") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.headers["X-RateLimit-Reset"].endswith("Z")
    assert limited.json()["errorMessages"]
    assert requests.get(f"{sb.url}/_sandbox/info", timeout=5).ok  # control API is exempt


def test_rate_limit_window_refills(sb: JiraSandbox) -> None:
    sb.set_rate_limit(1, window_seconds=0.2)
    assert get(sb, "/rest/api/2/myself").status_code == 200
    assert get(sb, "/rest/api/2/myself").status_code == 429
    deadline = time.monotonic() + 5  # the window ends: a call is allowed again
    while get(sb, "/rest/api/2/myself").status_code != 200:
        assert time.monotonic() < deadline, "the rate-limit window never refilled"
        time.sleep(0.05)


def test_jira_client_surfaces_429_when_retries_are_off(sb: JiraSandbox) -> None:
    jira = JIRA(
        sb.url, basic_auth=AUTH, options={"rest_api_version": "2"}, max_retries=0, timeout=10
    )
    sb.set_rate_limit(1, window_seconds=60)
    jira.myself()
    with pytest.raises(JIRAError) as err:
        jira.myself()
    assert err.value.status_code == 429
    assert err.value.response.headers["Retry-After"]


def test_fault_count_and_paths(sb: JiraSandbox) -> None:
    sb.inject_faults(count=2, kind="500", paths=["POST /rest/api/2/issue"])
    fields = {"project": {"key": "FIN"}, "issuetype": {"name": "Task"}, "summary": "x"}
    attempts = [
        requests.post(f"{sb.url}/rest/api/2/issue", json={"fields": fields}, auth=AUTH, timeout=5)
        for _ in range(3)
    ]
    assert [r.status_code for r in attempts] == [500, 500, 201]
    assert get(sb, "/rest/api/2/myself").ok  # other paths unaffected
    assert sb.issue_keys() == ["FIN-1"]  # failed attempts changed nothing


def test_fault_fraction_and_kinds(sb: JiraSandbox) -> None:
    sb.inject_faults(fraction=0.5, kind="429")
    codes = [get(sb, "/rest/api/2/myself").status_code for _ in range(40)]
    assert 5 < codes.count(429) < 35 and set(codes) == {200, 429}
    sb.clear_faults()
    sb.inject_faults(count=1, kind="503")
    response = get(sb, "/rest/api/2/myself")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    with pytest.raises(ValueError):
        sb.inject_faults(kind="418")


def test_timeout_fault_applies_the_change_but_answers_late(sb: JiraSandbox) -> None:
    sb.inject_faults(count=1, kind="timeout", delay=0.6, paths=["/rest/api/2/issue"])
    fields = {"project": {"key": "FIN"}, "issuetype": {"name": "Task"}, "summary": "x"}
    with pytest.raises(requests.Timeout):
        requests.post(f"{sb.url}/rest/api/2/issue", json={"fields": fields}, auth=AUTH, timeout=0.2)
    assert sb.issue_keys() == ["FIN-1"]  # the classic "did it happen?" case


def test_counters_and_reset(sb: JiraSandbox) -> None:
    key = create(sb)["key"]
    get(sb, f"/rest/api/2/issue/{key}")
    get(sb, "/rest/api/2/search/jql", params={"jql": "project = FIN"})
    assert sb.counters == {"POST /issue": 1, "GET /issue": 1, "GET /search/jql": 1}
    assert sb.total_calls() == 3
    sb.inject_faults(count=5)
    sb.reset()
    assert sb.counters == {} and sb.issue_keys() == []
    assert get(sb, "/rest/api/2/myself").ok  # faults cleared too
    assert create(sb)["key"] == "FIN-1"  # numbering starts over


def test_move_keeps_id_changes_key_and_old_key_still_resolves(sb: JiraSandbox) -> None:
    created = create(sb, "FIN")
    new_key = sb.move_issue(created["key"], "ENG")
    assert new_key == "ENG-1"
    via_old = get(sb, f"/rest/api/2/issue/{created['key']}").json()
    via_new = get(sb, f"/rest/api/2/issue/{new_key}").json()
    assert via_old["id"] == via_new["id"] == created["id"]
    assert via_old["key"] == new_key and via_new["fields"]["project"]["key"] == "ENG"
    found = get(sb, "/rest/api/2/search/jql", params={"jql": f"key = {created['key']}"}).json()
    assert [i["id"] for i in found["issues"]] == [created["id"]]


def test_control_api_drives_the_sandbox_from_another_process(sb: JiraSandbox) -> None:
    control = f"{sb.url}/_sandbox"
    info = requests.get(f"{control}/info", timeout=5).json()
    assert info["apiAccountId"] == sb.api_account_id and info["projects"] == [
        "FIN",
        "DOC",
        "ENG",
        "SHIP",
    ]
    key = requests.post(
        f"{control}/issues", json={"project": "ENG", "summary": "From UI"}, timeout=5
    ).json()["key"]
    field = requests.get(f"{control}/fields/Customer solution", timeout=5).json()["id"]
    steps = [
        ("update", {"fields": {"priority": "High", field: "Use the portal"}}),
        ("comment", {"body": "Working on it"}),
        ("transition", {"to_status": "Done", "resolution": "Won't Do"}),
    ]
    for action, payload in steps:
        assert requests.post(f"{control}/issues/{key}/{action}", json=payload, timeout=5).ok
    issue = requests.get(f"{control}/issues/{key}", timeout=5).json()
    assert issue["fields"]["priority"]["name"] == "High"
    assert issue["fields"][field] == "Use the portal"
    assert issue["fields"]["resolution"]["name"] == "Won't Do"
    assert issue["comments"][0]["author"]["accountId"] == sb.human_account_id
    moved = requests.post(f"{control}/issues/{key}/move", json={"to_project": "SHIP"}, timeout=5)
    assert moved.json()["key"] == "SHIP-1"
    assert requests.post(f"{control}/faults", json={"count": 1, "kind": "500"}, timeout=5).ok
    assert get(sb, "/rest/api/2/myself").status_code == 500
    counters = requests.get(f"{control}/counters", timeout=5).json()
    assert counters["counters"] == {"GET /myself": 1}
    knobs = requests.post(f"{control}/webhook-knobs", json={"duplicate": 0.5}, timeout=5).json()
    assert knobs["duplicate"] == 0.5
    assert (
        requests.post(f"{control}/webhook-knobs", json={"bogus": 1}, timeout=5).status_code == 400
    )
    assert requests.post(f"{control}/deliveries/wait", json={"timeout": 1}, timeout=5).ok
    assert requests.post(f"{control}/reset", timeout=5).status_code == 204
    assert requests.get(f"{control}/issues", timeout=5).json() == {"keys": []}


def test_auth_is_required_except_for_server_info(sb: JiraSandbox) -> None:
    anonymous = requests.get(f"{sb.url}/rest/api/2/serverInfo", timeout=5)
    assert anonymous.ok and anonymous.json()["deploymentType"] == "Cloud"
    assert requests.get(f"{sb.url}/rest/api/2/myself", timeout=5).status_code == 401
    bad = requests.get(
        f"{sb.url}/rest/api/2/serverInfo", auth=("admin@example.com", "x"), timeout=5
    )
    assert bad.status_code == 401
    assert get(sb, "/rest/api/2/nothing-here").status_code == 404


def test_human_actions_are_validated(sb: JiraSandbox) -> None:
    key = sb.human_create("DOC", "Unclear instructions")
    with pytest.raises(Exception, match="priority"):
        sb.human_update(key, priority="Urgent")
    sb.human_update(key, duedate="2026-12-01", labels=["docs"], fixVersions=["2.0"])
    fields = sb.issue(key)["fields"]
    assert fields["duedate"] == "2026-12-01" and fields["fixVersions"][0]["name"] == "2.0"
    sb.link_duplicate(sb.human_create("DOC", "Same"), key)
    assert sb.issue(key)["fields"]["issuelinks"][0]["inwardIssue"]["key"] == "DOC-2"
    assert [h["items"][0]["field"] for h in sb.issue(key)["changelog"]["histories"]] == ["duedate"]


def test_concurrent_creates_get_unique_keys(sb: JiraSandbox) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda _: create(sb, "SHIP"), range(40)))
    assert sorted(int(c["key"].split("-")[1]) for c in created) == list(range(1, 41))
    assert len({c["id"] for c in created}) == 40
    assert sb.counters["POST /issue"] == 40
