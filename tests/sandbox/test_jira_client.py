"""The real pycontribs `jira` client, configured as the connector configures it, works against
the Jira sandbox over HTTP for every operation the connector uses."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from connector_sandboxes.jira import JiraSandbox

OPTIONS = {"rest_api_version": "2"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[JiraSandbox]:
    sb = JiraSandbox()
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def sb(sandbox: JiraSandbox) -> JiraSandbox:
    sandbox.reset()
    return sandbox


@pytest.fixture
def jira(sb: JiraSandbox) -> JIRA:
    return JIRA(
        server=sb.url,
        basic_auth=("admin@example.com", "sandbox"),
        options=dict(OPTIONS),
        max_retries=0,
        timeout=10,
    )


def _create(jira: JIRA, **fields: object) -> object:
    values: dict[str, object] = {"project": "ENG", "summary": "Double charge", "issuetype": "Bug"}
    values.update(fields)
    return jira.create_issue(fields=values)


def test_basic_auth_identifies_the_api_account_and_cloud_has_no_pat(sb: JiraSandbox) -> None:
    basic = JIRA(
        sb.url,
        basic_auth=("admin@example.com", "sandbox"),
        options=dict(OPTIONS),
        max_retries=0,
        timeout=10,
    )
    assert basic.deploymentType == "Cloud"
    assert basic.myself()["accountId"] == sb.api_account_id
    assert sb.api_account_id != sb.human_account_id
    with pytest.raises(JIRAError) as err:
        JIRA(sb.url, token_auth="sandbox", options=dict(OPTIONS), max_retries=0, timeout=10)
    assert err.value.status_code == 401


def test_wrong_credentials_fail_at_construction(sb: JiraSandbox) -> None:
    with pytest.raises(JIRAError) as err:
        JIRA(sb.url, basic_auth=("admin@example.com", "nope"), max_retries=0, timeout=10)
    assert err.value.status_code == 401


def test_create_and_get_issue_with_all_fields(sb: JiraSandbox, jira: JIRA) -> None:
    solution = sb.field_id("Customer solution")
    issue = jira.create_issue(
        project={"key": "ENG"},
        issuetype={"name": "Bug"},
        summary="Double charge on November invoices",
        description="Internal notes",
        labels=["customer-impact"],
        priority={"name": "High"},
        duedate="2026-12-01",
        components=[{"name": "Support"}],
        fixVersions=[{"name": "2.0"}],
        **{solution: "Refunded automatically", sb.field_id("Linked tickets"): 3},
    )
    assert issue.key == "ENG-1"
    fetched = jira.issue(issue.key)
    f = fetched.fields
    assert (f.status.name, f.status.statusCategory.key) == ("To Do", "new")
    assert (f.priority.name, f.duedate, f.labels) == ("High", "2026-12-01", ["customer-impact"])
    assert [c.name for c in f.components] == ["Support"]
    assert f.fixVersions[0].releaseDate == "2026-12-15"
    assert getattr(f, solution) == "Refunded automatically"
    assert getattr(f, sb.field_id("Linked tickets")) == 3.0
    assert f.resolution is None and f.project.key == "ENG" and f.issuetype.name == "Bug"
    assert f.created.endswith("+0000") and len(f.updated) == len("2026-11-26T00:54:34.000+0000")
    assert jira.issue(fetched.id).key == "ENG-1"


def test_get_issue_honours_fields_and_expand(jira: JIRA) -> None:
    issue = _create(jira)
    raw = jira.issue(issue.key, fields="summary,status", expand="names,changelog").raw
    assert set(raw["fields"]) == {"summary", "status"}
    assert raw["names"]["summary"] == "Summary" and "histories" in raw["changelog"]


def test_invalid_create_answers_jira_error_shape(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira.create_issue(
            fields={
                "project": {"key": "ENG"},
                "issuetype": {"name": "Bug"},
                "summary": "x",
                "priority": {"name": "Urgent"},
                "labels": ["has space"],
                "customfield_99999": "x",
            }
        )
    assert err.value.status_code == 400
    errors = err.value.response.json()["errors"]
    assert set(errors) == {"priority", "labels", "customfield_99999"}
    with pytest.raises(JIRAError):
        jira.create_issue(
            fields={"project": {"key": "NOPE"}, "issuetype": {"id": "10001"}, "summary": "x"}
        )


def test_update_fields_and_label_operations(jira: JIRA) -> None:
    issue = _create(jira, labels=["a", "b"])
    issue.update(
        fields={"summary": "Renamed", "priority": {"name": "Highest"}},
        update={"labels": [{"add": "c"}, {"remove": "a"}]},
    )
    fresh = jira.issue(issue.key)
    assert fresh.fields.summary == "Renamed" and fresh.fields.priority.name == "Highest"
    assert fresh.fields.labels == ["b", "c"]


def test_transitions_resolve_and_reopen(jira: JIRA) -> None:
    issue = _create(jira)
    assert [t["name"] for t in jira.transitions(issue)] == ["In Progress", "Done"]
    jira.transition_issue(issue, "In Progress")
    jira.transition_issue(issue, "Done", fields={"resolution": {"name": "Fixed"}})
    done = jira.issue(issue.key).fields
    assert (done.status.name, done.status.statusCategory.key) == ("Done", "done")
    assert done.resolution.name == "Fixed" and done.resolutiondate
    jira.transition_issue(issue, "To Do")
    reopened = jira.issue(issue.key).fields
    assert reopened.status.name == "To Do" and reopened.resolution is None
    with pytest.raises(JIRAError) as err:
        jira.transition_issue(issue, "31", fields={"resolution": {"name": "Nonsense"}})
    assert err.value.status_code == 400


def test_comments(jira: JIRA) -> None:
    issue = _create(jira)
    comment = jira.add_comment(issue, "Looking into it")
    assert comment.body == "Looking into it" and comment.author.displayName
    assert [c.body for c in jira.comments(issue.key)] == ["Looking into it"]
    assert jira.issue(issue.key).fields.comment.total == 1


def test_remote_link_upserts_on_global_id(sb: JiraSandbox, jira: JIRA) -> None:
    issue = _create(jira)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = jira.add_remote_link(
            issue.key, {"url": "https://zd/1", "title": "Ticket 1"}, globalId="zendesk-ticket-1"
        )
        again = jira.add_remote_link(
            issue.key, {"url": "https://zd/1", "title": "Ticket 1 (2)"}, globalId="zendesk-ticket-1"
        )
        jira.add_simple_link(issue.key, {"url": "https://zd/2", "title": "Ticket 2"})
    assert any("applicationlinks" in str(w.message) for w in caught)  # applinks 404 tolerated
    assert first.id == again.id
    titles = [link.object.title for link in jira.remote_links(issue.key)]
    assert titles == ["Ticket 1 (2)", "Ticket 2"]
    assert sb.remote_links(issue.key)[0]["globalId"] == "zendesk-ticket-1"


def test_issue_properties(sb: JiraSandbox, jira: JIRA) -> None:
    issue = _create(jira)
    jira.add_issue_property(issue.key, "connector.problem", {"problem_id": 7, "tickets": [1, 2]})
    assert jira.issue_property(issue.key, "connector.problem").value.problem_id == 7
    assert [p.key for p in jira.issue_properties(issue.key)] == ["connector.problem"]
    assert sb.properties(issue.key) == {"connector.problem": {"problem_id": 7, "tickets": [1, 2]}}
    with pytest.raises(JIRAError) as err:
        jira.add_issue_property(issue.key, "big", "x" * 40000)
    assert err.value.status_code == 400
    jira._session.delete(f"{sb.url}/rest/api/2/issue/{issue.key}/properties/connector.problem")
    assert sb.properties(issue.key) == {}


def test_duplicate_issue_link(jira: JIRA) -> None:
    original = _create(jira, summary="Original")
    copy = _create(jira, summary="Copy")
    jira.create_issue_link("Duplicate", copy.key, original.key)
    copy_links = jira.issue(copy.key).fields.issuelinks
    original_links = jira.issue(original.key).fields.issuelinks
    assert copy_links[0].type.outward == "duplicates"
    assert copy_links[0].outwardIssue.key == original.key
    assert original_links[0].inwardIssue.key == copy.key
    assert original_links[0].type.inward == "is duplicated by"


def test_enhanced_search_pages_with_next_page_token(jira: JIRA) -> None:
    keys = [_create(jira, summary=f"Issue {n}").key for n in range(5)]
    _create(jira, project="FIN", summary="Elsewhere")
    jql = "project in (ENG, DOC) ORDER BY created ASC"
    first = jira.enhanced_search_issues(jql, maxResults=2, fields="summary")
    assert [i.key for i in first] == keys[:2] and first.nextPageToken
    assert first[0].fields.summary == "Issue 0"
    second = jira.enhanced_search_issues(jql, maxResults=2, nextPageToken=first.nextPageToken)
    assert [i.key for i in second] == keys[2:4]
    everything = jira.enhanced_search_issues(jql, maxResults=0)
    assert [i.key for i in everything] == keys
    ids_only = jira._get_json("search/jql", params={"jql": jql})
    assert set(ids_only["issues"][0]) <= {"id", "key", "self", "expand"}
    assert ids_only["isLast"] is True and "nextPageToken" not in ids_only


def test_unbounded_search_is_refused_on_cloud(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues("order by key desc")
    assert err.value.status_code == 400 and "Unbounded" in err.value.text


def test_old_search_is_gone_on_cloud(sb: JiraSandbox, jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira._get_json("search", params={"jql": "project = ENG"})
    assert err.value.status_code == 410


def test_data_center_uses_old_search_with_a_pat() -> None:
    dc = JiraSandbox(deployment_type="DataCenter", projects=("OPS",))
    url = dc.start()
    try:
        jira = JIRA(url, token_auth="sandbox", options=dict(OPTIONS), max_retries=0, timeout=10)
        assert jira.deploymentType == "DataCenter"
        for n in range(3):
            jira.create_issue(project="OPS", summary=f"n{n}", issuetype={"name": "Task"})
        found = jira.search_issues("project = OPS ORDER BY key ASC", maxResults=2)
        assert [i.key for i in found] == ["OPS-1", "OPS-2"] and found.total == 3
        assert [i.key for i in jira.search_issues("project = OPS", maxResults=False)] == [
            "OPS-3",
            "OPS-2",
            "OPS-1",
        ]
        with pytest.raises(JIRAError) as err:
            jira._get_json("search/jql", params={"jql": "project = OPS"})
        assert err.value.status_code == 404
    finally:
        dc.stop()


def test_delete_issue(sb: JiraSandbox, jira: JIRA) -> None:
    issue = _create(jira)
    issue.delete()
    with pytest.raises(JIRAError) as err:
        jira.issue(issue.key)
    assert err.value.status_code == 404
    assert sb.counters["DELETE /issue"] == 1


def test_admin_webhook_crud_through_the_client_session(sb: JiraSandbox, jira: JIRA) -> None:
    base = f"{sb.url}/rest/webhooks/1.0/webhook"
    created = jira._session.post(
        base,
        json={
            "name": "connector",
            "url": "http://127.0.0.1:9/webhooks/jira",
            "events": ["jira:issue_updated"],
            "filters": {"issue-related-events-section": "project = ENG"},
            "excludeBody": False,
            "secret": "s3cret",
        },
    ).json()
    assert created["filters"]["issue-related-events-section"] == "project = ENG"
    assert "secret" not in created
    hook_url = created["self"]
    assert [h["name"] for h in jira._session.get(base).json()] == ["connector"]
    updated = jira._session.put(hook_url, json={"events": ["jira:issue_created"]}).json()
    assert updated["events"] == ["jira:issue_created"] and updated["url"].endswith("/jira")
    assert jira._session.get(hook_url).json()["events"] == ["jira:issue_created"]
    jira._session.delete(hook_url)
    assert jira._session.get(base).json() == []
    with pytest.raises(JIRAError) as err:
        jira._session.post(base, json={"name": "x", "url": "http://x", "events": ["bogus"]})
    assert err.value.status_code == 400


def test_v3_uses_adf_for_rich_text(sb: JiraSandbox, jira: JIRA) -> None:
    issue = _create(jira, description="Line one\nLine two")
    raw = jira._session.get(f"{sb.url}/rest/api/3/issue/{issue.key}").json()
    assert raw["fields"]["description"]["type"] == "doc"
    adf = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Via v3"}]}],
    }
    jira._session.post(f"{sb.url}/rest/api/3/issue/{issue.key}/comment", json={"body": adf})
    assert sb.comments(issue.key)[0]["body"] == "Via v3"
