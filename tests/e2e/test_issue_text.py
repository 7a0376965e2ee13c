"""What the connector writes into Jira for people: readable marker labels that name their
installation, and (below) the summary an engineer reads on a new or adopted issue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.demo.stack import LocalStack
from connector.sync.problems import legacy_marker_label
from tests.e2e.conftest import config_with
from tests.e2e.test_linking import links, problem_ticket


@pytest.fixture
def acme(tmp_path: Path, database_url: str) -> Iterator[LocalStack]:
    text = config_with(impact_debounce_seconds="0", install_id="acme")
    s = LocalStack(tmp_path, database_url=database_url, config_text=text)
    s.start()
    yield s
    s.stop()


def test_the_creation_marker_names_the_problem_ticket_and_the_installation(
    acme: LocalStack,
) -> None:
    # Another installation sharing the Jira site made an issue for its own ticket of that number.
    pid = problem_ticket(acme)
    theirs = acme.jira.human_create("FIN", "Theirs", labels=[f"zendesk-problem-{pid}-globex"])
    acme.drain()
    [(key, _)] = links(acme).values()
    assert key != theirs
    assert f"zendesk-problem-{pid}-acme" in acme.jira.issue(key)["fields"]["labels"]


def test_a_rule_cause_marker_reads_as_the_rule(acme: LocalStack) -> None:
    acme.zendesk.agent_create_ticket(subject="Lost", comment={"body": "?"}, tags=["parcel_lost"])
    acme.drain()
    [(key, _)] = links(acme).values()
    assert key is not None
    [label] = [x for x in acme.jira.issue(key)["fields"]["labels"] if x.startswith("zendesk-")]
    assert label.startswith("zendesk-rule-shipping-lost-parcels-") and label.endswith("-acme")


def test_an_issue_carrying_the_old_marker_is_adopted_not_duplicated(acme: LocalStack) -> None:
    # A crash after Jira created the issue, under a connector version with the old labels.
    pid = problem_ticket(acme)
    old = acme.jira.human_create(
        "FIN", "Double charge", labels=[legacy_marker_label(f"zendesk:{pid}")]
    )
    acme.drain()
    [(key, _)] = links(acme).values()
    assert key == old
    assert [k for k in acme.jira.issue_keys() if k.startswith("FIN-")] == [old]


def test_a_new_issue_tells_where_the_customers_are_and_no_personal_data(
    acme: LocalStack,
) -> None:
    pid = problem_ticket(acme, subject="Double charge for Dana Doe")
    acme.drain()
    [(key, _)] = links(acme).values()
    assert key is not None
    text = acme.jira.issue(key)["fields"]["description"]
    created = acme.zendesk.ticket(pid)["created_at"][:16].replace("T", " ")
    url = f"{str(acme.rt.settings.zendesk_url).rstrip('/')}/agent/tickets/{pid}"
    assert f"Zendesk problem ticket: [#{pid}|{url}]" in text
    assert f"First report: ticket [#{pid}|{url}], via web, {created} UTC" in text
    assert "Live numbers: the fields Zendesk tickets, Open tickets" in text
    assert "zendesk.impact" in text
    assert "Dana" not in text  # the subject only with include_personal_data


def test_a_rule_created_issue_names_its_first_ticket(acme: LocalStack) -> None:
    first = acme.zendesk.agent_create_ticket(
        subject="Lost", comment={"body": "?"}, tags=["parcel_lost"]
    )["id"]
    acme.drain()
    [(key, _)] = links(acme).values()
    assert key is not None
    text = acme.jira.issue(key)["fields"]["description"]
    assert f"First report: ticket [#{first}|" in text and "via web" in text
    assert "search for this issue's key" in text and "Live numbers:" in text


def test_with_personal_data_the_subject_is_quoted_as_text(
    tmp_path: Path, database_url: str
) -> None:
    zendesk = {"include_personal_data": True}
    text = config_with(impact_debounce_seconds="0", install_id="acme", zendesk=zendesk)
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text)
    stack.start()
    try:
        problem_ticket(
            stack, subject="[~accountid:5570] *urgent* {color:red}refund{color} [x|http://evil]"
        )
        stack.drain()
        [(key, _)] = links(stack).values()
        assert key is not None
        description = stack.jira.issue(key)["fields"]["description"]
    finally:
        stack.stop()
    assert (
        r"Subject: \[\~accountid:5570\] \*urgent\* \{color:red\}refund\{color\} \[x\|http://evil\]"
        in description
    )


def test_an_adopted_issue_keeps_its_description_and_gets_the_summary_once(
    stack: LocalStack,
) -> None:
    from connector.sync.problems import ADOPTED_OPENING
    from tests.e2e.test_linking import cf

    key = stack.jira.human_create(
        "SHIP", "Parcels stuck in Leipzig hub", description="Engineer's own analysis."
    )
    for n in range(2):  # a second pasted key, and every later event, adds no second comment
        stack.zendesk.agent_create_ticket(
            subject=f"Where is my parcel {n}",
            comment={"body": "?"},
            custom_fields=cf(stack, jira_issue=key),
        )
        stack.drain()
    assert stack.jira.issue(key)["fields"]["description"] == "Engineer's own analysis."
    summaries = [c for c in stack.jira.comments(key) if ADOPTED_OPENING in str(c["body"])]
    assert len(summaries) == 1
    assert "Live numbers" in str(summaries[0]["body"])
