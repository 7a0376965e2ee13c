"""Rehearsing as people through the sandboxes' REST APIs: the agent's and the engineer's own
logins are followed like any person's, the connector's own login is ignored, and the log says
why (a person who borrows the connector's login sees nothing happen)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from jira import JIRA

from connector.demo.stack import LocalStack
from connector.store.models import LinkVia
from tests.e2e.test_linking import field_value, known_problem_options, links, problem_ticket

AGENT = ("agent@example.com/token", "agent-sandbox")
CONNECTOR = ("admin@example.com/token", "sandbox")
ENGINEER = ("engineer@example.com", "engineer-sandbox")


def zendesk_put(stack: LocalStack, ticket_id: int, auth: tuple[str, str], **ticket: Any) -> None:
    answer = requests.put(
        f"{stack.zendesk.url}/api/v2/tickets/{ticket_id}.json",
        json={"ticket": ticket},
        auth=auth,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def new_ticket(stack: LocalStack, auth: tuple[str, str], subject: str) -> int:
    answer = requests.post(
        f"{stack.zendesk.url}/api/v2/tickets.json",
        json={"ticket": {"subject": subject, "comment": {"body": "Please help"}}},
        auth=auth,
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["ticket"]["id"])


def jira_as(stack: LocalStack, basic_auth: tuple[str, str]) -> JIRA:
    return JIRA(
        stack.jira.url,
        basic_auth=basic_auth,
        options={"rest_api_version": "2"},
        max_retries=0,
        timeout=10,
    )


def transition(client: JIRA, key: str, status: str, resolution: str | None = None) -> None:
    found = next(t["id"] for t in client.transitions(key) if t["to"]["name"] == status)
    extra = {"resolution": {"name": resolution}} if resolution else {}
    client.transition_issue(key, found, **extra)


def test_the_agent_links_tickets_over_rest_with_its_own_login(stack: LocalStack) -> None:
    problem_ticket(stack, team="docs", subject="Setup guide step 4 is wrong")
    stack.drain()
    [(key, _)] = links(stack).values()
    [value] = [v for v in known_problem_options(stack) if v.startswith("zdjira_problem_")]
    by_dropdown = new_ticket(stack, AGENT, "Step 4?")
    by_key = new_ticket(stack, AGENT, "Step 4 again")
    zendesk_put(stack, by_dropdown, AGENT, custom_fields=[cf(stack, "known_problem", value)])
    zendesk_put(stack, by_key, AGENT, custom_fields=[cf(stack, "jira_issue", key)])
    stack.drain()
    assert links(stack)[by_dropdown] == (key, LinkVia.KNOWN_PROBLEM)
    assert links(stack)[by_key] == (key, LinkVia.JIRA_FIELD)
    assert field_value(stack, by_dropdown, "jira_issue") == key


def test_the_engineers_rest_transition_is_mirrored(stack: LocalStack) -> None:
    engineer = jira_as(stack, ENGINEER)
    key = engineer.create_issue(
        fields={"project": "ENG", "summary": "Export crashes", "issuetype": "Task"}
    ).key
    ticket = new_ticket(stack, AGENT, "Export crashes for me")
    zendesk_put(stack, ticket, AGENT, custom_fields=[cf(stack, "jira_issue", key)])
    stack.drain()
    assert links(stack)[ticket][0] == key
    transition(engineer, key, "In Progress")
    stack.drain()
    assert field_value(stack, ticket, "jira_status") == "In Progress"
    assert "jira_status_indeterminate" in stack.zendesk.ticket(ticket)["tags"]
    transition(engineer, key, "Done", "Fixed")
    stack.drain()
    assert field_value(stack, ticket, "jira_status") == "Done"


def test_the_connectors_own_login_is_ignored_and_the_log_says_why(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector")
    problem_ticket(stack)
    stack.drain()
    [(key, _)] = links(stack).values()
    ticket = stack.zendesk.agent_create_ticket(subject="Charged twice", comment={"body": "?"})["id"]
    stack.drain()
    zendesk_put(stack, ticket, CONNECTOR, custom_fields=[cf(stack, "jira_issue", key)])
    transition(jira_as(stack, ("admin@example.com", "sandbox")), key, "In Progress")
    stack.drain()
    assert ticket not in links(stack)  # a person borrowing the connector's login is ignored
    zendesk_lines = own_skipped(caplog, "zendesk.events.own_skipped")
    jira_lines = own_skipped(caplog, "jira.events.own_skipped")
    assert zendesk_lines and jira_lines
    assert zendesk_lines[-1]["user_id"] == stack.zendesk.admin_user_id
    assert jira_lines[-1]["account"] == stack.jira.api_account_id
    for fields in (zendesk_lines[-1], jira_lines[-1]):
        assert "connector's own" in fields["reason"] and "dedicated" in fields["reason"]


def own_skipped(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if getattr(r, "event", None) == event]  # type: ignore[attr-defined]


def cf(stack: LocalStack, key: str, value: Any) -> dict[str, Any]:
    return {"id": getattr(stack.fields, key), "value": value}
