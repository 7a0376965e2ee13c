"""The sandbox's JQL subset selects and orders the issues Jira would, and rejects what Jira
rejects with its 400 error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector_sandboxes.jira import jql
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.sandbox import JiraSandbox


@pytest.fixture(scope="module")
def sb() -> JiraSandbox:
    """Not started: JQL runs on the state, no HTTP needed."""
    sandbox = JiraSandbox()
    fin1 = sandbox.human_create("FIN", "Double charge", labels=["billing", "urgent"])
    sandbox.human_create("DOC", "Unclear setup guide", priority="High")
    eng1 = sandbox.human_create("ENG", "Crash on save", issuetype="Bug", duedate="2026-12-01")
    sandbox.human_transition(eng1, "Done", resolution="Fixed")
    sandbox.human_update(fin1, customfield_10050="Refund issued")
    sandbox.actions.get(fin1).properties["connector"] = {"problem": 42, "managed": True}
    return sandbox


def keys(sb: JiraSandbox, query: str) -> list[str]:
    parsed = jql.parse(query)
    with sb.state.lock:
        matching = [i for i in sb.state.issues.values() if parsed.matches(sb.state, i)]
        return [i.key for i in parsed.sort(matching)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("project = FIN", ["FIN-1"]),
        ("project in (FIN, eng) ORDER BY key ASC", ["ENG-1", "FIN-1"]),
        ("project = Documentation", ["DOC-1"]),
        ("project != FIN ORDER BY created ASC", ["DOC-1", "ENG-1"]),
        ("labels = billing", ["FIN-1"]),
        ("labels in (urgent, nope)", ["FIN-1"]),
        ("labels is EMPTY ORDER BY created DESC", ["ENG-1", "DOC-1"]),
        ("key in (FIN-1, DOC-1) ORDER BY created ASC", ["FIN-1", "DOC-1"]),
        ("issuekey = eng-1", ["ENG-1"]),
        ("status = Done", ["ENG-1"]),
        ("statusCategory != done ORDER BY created ASC", ["FIN-1", "DOC-1"]),
        ("resolution = Fixed", ["ENG-1"]),
        ("resolution is EMPTY and priority = High", ["DOC-1"]),
        ("issuetype = Bug", ["ENG-1"]),
        ('summary ~ "setup guide"', ["DOC-1"]),
        ("cf[10050] ~ refund", ["FIN-1"]),
        ('"Customer solution" is not EMPTY', ["FIN-1"]),
        ("issue.property[connector].problem = 42", ["FIN-1"]),
        ("issue.property[connector].managed = true", ["FIN-1"]),
        ("duedate <= 2026-12-01", ["ENG-1"]),
        (
            "project = FIN OR (project = DOC AND NOT labels = x) ORDER BY created ASC",
            ["FIN-1", "DOC-1"],
        ),
        ("project in (FIN, DOC, ENG) ORDER BY updated DESC", ["FIN-1", "ENG-1", "DOC-1"]),
    ],
)
def test_selects_and_orders(sb: JiraSandbox, query: str, expected: list[str]) -> None:
    assert keys(sb, query) == expected


def test_updated_accepts_minute_dates_and_epoch_millis(sb: JiraSandbox) -> None:
    with sb.state.lock:
        issue = sb.actions.get("FIN-1")
        updated = issue.updated
    minute = (updated - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    later = (updated + timedelta(minutes=1)).strftime("%Y/%m/%d %H:%M")
    millis = int(updated.timestamp() * 1000)
    assert "FIN-1" in keys(sb, f'updated >= "{minute}"')
    assert keys(sb, f'updated > "{later}"') == []
    assert "FIN-1" in keys(sb, f"updated >= {millis}")
    assert "FIN-1" not in keys(sb, f"updated > {millis}")
    assert keys(sb, "project = FIN AND updated >= -1d") == ["FIN-1"]
    assert keys(sb, f"id = {issue.id}") == ["FIN-1"]
    assert keys(sb, f"id in ({issue.id}, 1)") == ["FIN-1"]


@pytest.mark.parametrize(
    "query",
    [
        "project = ",
        "nosuchfield = 1",
        "project = FIN ORDER BY nosuch",
        "project in FIN",
        'updated >= "not a date"',
        "project = FIN AND",
        "assignee = currentUser()",
        "(project = FIN",
    ],
)
def test_invalid_queries_answer_400(sb: JiraSandbox, query: str) -> None:
    with pytest.raises(JiraError) as err:
        keys(sb, query)
    assert err.value.status == 400
    assert err.value.body["errorMessages"][0].startswith("Error in the JQL Query")


def test_bounded_means_there_is_a_restriction() -> None:
    assert not jql.parse("").bounded
    assert not jql.parse("ORDER BY created DESC").bounded
    assert jql.parse("project = FIN ORDER BY created DESC").bounded
