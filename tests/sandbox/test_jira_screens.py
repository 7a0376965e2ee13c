"""The Jira sandbox keeps Jira's screen rules: a new custom field is on no screen, an edit that
sets a field off the issue's edit screen fails whole, and an edit carries issue properties and
`notifyUsers`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from connector_sandboxes.jira import JiraSandbox

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[JiraSandbox, str]]:
    sb = JiraSandbox(projects=("ENG", "OPS"))
    base = sb.start() + "/rest/api/2"
    yield sb, base
    sb.stop()


@pytest.fixture
def http(site: tuple[JiraSandbox, str]) -> requests.Session:
    site[0].reset()
    session = requests.Session()
    session.auth = ("admin@example.com", "sandbox")
    return session


def _edit_screen(http: requests.Session, base: str, project_id: str) -> tuple[int, int]:
    schemes = http.get(f"{base}/issuetypescreenscheme/project", params={"projectId": project_id})
    scheme_id = schemes.json()["values"][0]["issueTypeScreenScheme"]["id"]
    items = http.get(
        f"{base}/issuetypescreenscheme/mapping", params={"issueTypeScreenSchemeId": scheme_id}
    ).json()["values"]
    screen_scheme_id = next(i for i in items if i["issueTypeId"] == "default")["screenSchemeId"]
    screens = http.get(f"{base}/screenscheme", params={"id": screen_scheme_id}).json()
    types = screens["values"][0]["screens"]
    screen = types.get("edit", types["default"])
    return screen, http.get(f"{base}/screens/{screen}/tabs").json()[0]["id"]


def test_a_new_field_is_settable_once_on_the_edit_screen(
    site: tuple[JiraSandbox, str], http: requests.Session
) -> None:
    sb, base = site
    field = http.post(
        f"{base}/field",
        json={"name": "Open tickets", "type": f"{CF}float", "searcherKey": f"{CF}exactnumber"},
    ).json()
    issue = http.post(
        f"{base}/issue",
        json={"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Bug"}, "summary": "x"}},
    ).json()
    refused = http.put(f"{base}/issue/{issue['key']}", json={"fields": {field["id"]: 3}})
    assert refused.status_code == 400
    assert "not on the appropriate screen" in refused.json()["errors"][field["id"]]

    screen, tab = _edit_screen(http, base, sb.state.projects["ENG"].id)
    added = http.post(f"{base}/screens/{screen}/tabs/{tab}/fields", json={"fieldId": field["id"]})
    assert added.ok
    again = http.post(f"{base}/screens/{screen}/tabs/{tab}/fields", json={"fieldId": field["id"]})
    assert again.status_code == 400

    edit = {
        "fields": {field["id"]: 3},
        "properties": [{"key": "zendesk.impact", "value": {"t": 3}}],
    }
    assert http.put(f"{base}/issue/{issue['key']}?notifyUsers=false", json=edit).status_code == 204
    read = http.get(f"{base}/issue/{issue['key']}", params={"properties": "zendesk.impact"}).json()
    assert read["fields"][field["id"]] == 3.0
    assert read["properties"]["zendesk.impact"] == {"t": 3}
    assert sb.state.watcher_emails == []
    http.put(f"{base}/issue/{issue['key']}", json={"fields": {field["id"]: 4}})
    assert sb.state.watcher_emails == [(issue["key"], sb.api_account_id)]

    other = http.post(
        f"{base}/issue",
        json={"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Bug"}, "summary": "y"}},
    ).json()
    http.put(f"{base}/issue/{other['key']}", json={"fields": {field["id"]: 9}})
    jql = 'project = ENG ORDER BY "Open tickets" DESC'
    found = http.get(f"{base}/search/jql", params={"jql": jql}).json()["issues"]
    assert [i["id"] for i in found] == [other["id"], issue["id"]]


def test_shared_screens_are_one_scheme(
    site: tuple[JiraSandbox, str], http: requests.Session
) -> None:
    sb, base = site
    sb.state.share_screens(["ENG", "OPS"])
    eng = _edit_screen(http, base, sb.state.projects["ENG"].id)
    ops = _edit_screen(http, base, sb.state.projects["OPS"].id)
    assert eng == ops
