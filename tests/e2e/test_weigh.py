"""Impact and priority in Jira, and idempotence under duplicate and reordered deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from connector.demo.stack import LocalStack
from tests.e2e.conftest import both_jira, config_with, stop_checked
from tests.e2e.test_impact_fields import impact_fields
from tests.e2e.test_linking import links, problem_ticket

PRIORITY = [{"min_tickets": 4, "priority": "Highest"}, {"min_tickets": 2, "priority": "High"}]


def start(tmp_path: Path, database_url: str, **kw: Any) -> LocalStack:
    text = config_with(impact_debounce_seconds=0, priority=PRIORITY)
    return LocalStack(tmp_path, database_url=database_url, config_text=text, **kw).start()


def incident(stack: LocalStack, problem: int, n: int) -> int:
    return int(
        stack.zendesk.agent_create_ticket(
            subject=f"Charged twice ({n})",
            comment={"body": "?"},
            type="incident",
            problem_id=problem,
        )["id"]
    )


@both_jira
def test_priority_rises_at_the_thresholds_and_is_never_lowered(
    tmp_path: Path, database_url: str, jira_deployment: str
) -> None:
    stack = start(tmp_path, database_url, jira_deployment=jira_deployment)
    try:
        pid = problem_ticket(stack)
        stack.drain()
        key = links(stack)[pid][0]
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Medium"  # 1 ticket
        incident(stack, pid, 1)
        stack.drain()
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "High"  # 2 tickets
        for n in range(2, 4):
            incident(stack, pid, n)
        stack.drain()
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Highest"  # 4 tickets
        impact = stack.jira.properties(key)["zendesk.impact"]
        assert impact["tickets"] == 4 == len(links(stack))
    finally:
        stop_checked(stack)


@both_jira
def test_a_human_priority_change_is_respected(
    tmp_path: Path, database_url: str, jira_deployment: str
) -> None:
    stack = start(tmp_path, database_url, jira_deployment=jira_deployment)
    try:
        pid = problem_ticket(stack)
        incident(stack, pid, 1)
        stack.drain()
        key = links(stack)[pid][0]
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "High"
        stack.jira.human_update(key, priority="Low")  # an engineer decides
        for n in range(2, 6):
            incident(stack, pid, n)
        stack.drain()
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Low"
        assert stack.jira.properties(key)["zendesk.impact"]["tickets"] == 6
    finally:
        stop_checked(stack)


def final_state(stack: LocalStack) -> dict[str, Any]:
    linked = links(stack)
    return {
        "links": sorted((t, v.value) for t, (_k, v) in linked.items()),
        "issues": sorted(stack.jira.issue_keys()),
        "notes": sorted(
            (t["id"], len([c for c in stack.zendesk.comments(t["id"]) if not c["public"]]))
            for t in stack.zendesk.tickets()
        ),
        "impact": sorted(
            (k, stack.jira.properties(k)["zendesk.impact"]["tickets"])
            for k in stack.jira.issue_keys()
        ),
    }


def scenario(stack: LocalStack) -> None:
    pid = problem_ticket(stack)
    other = problem_ticket(stack, team="docs", subject="Manual")
    tickets = [incident(stack, pid, n) for n in range(5)]
    stack.zendesk.agent_update_ticket(tickets[0], problem_id=other)  # moved
    stack.zendesk.agent_update_ticket(tickets[1], type="question", problem_id=None)  # unlinked
    stack.zendesk.agent_create_ticket(subject="Lost", comment={"body": "?"}, tags=["parcel_lost"])
    stack.drain()


def test_duplicate_and_reordered_deliveries_end_as_one_clean_delivery(
    tmp_path: Path, both_databases: str
) -> None:
    (tmp_path / "clean").mkdir()
    clean = start(tmp_path / "clean", f"sqlite:///{tmp_path / 'clean' / 'c.db'}")
    try:
        scenario(clean)
        expected = final_state(clean)
    finally:
        clean.stop()
    (tmp_path / "messy").mkdir()
    messy = start(tmp_path / "messy", both_databases)
    try:
        messy.zendesk.webhook_knobs(duplicate=True, reorder=True)
        scenario(messy)
        assert final_state(messy) == expected
        accepted = [d for d in messy.zendesk.deliveries if d["attempts"][-1]["status_code"] == 200]
        assert accepted, "some deliveries were answered as duplicates"
    finally:
        messy.stop()


def test_impact_goes_into_jira_number_fields_with_the_summed_customer_value(
    tmp_path: Path, database_url: str
) -> None:
    text = config_with(
        impact_debounce_seconds=0,
        zendesk={"organization_value_field": "annual_value"},
        jira={
            "impact_fields": {
                "tickets": "customfield_10052",
                "organizations": "customfield_10053",
                "value": "customfield_10054",
            }
        },
    )
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text).start()
    try:
        created = requests.post(  # as an admin would, in Admin Center
            f"{stack.zendesk.url}/api/v2/organization_fields.json",
            auth=("admin@example.com/token", "sandbox"),
            json={
                "organization_field": {"key": "annual_value", "title": "Value", "type": "decimal"}
            },
            timeout=10,
        )
        assert created.status_code == 201
        big = stack.zendesk.create_organization("Big", {"annual_value": 120000})["id"]
        small = stack.zendesk.create_organization("Small", {"annual_value": 5000.5})["id"]
        pid = problem_ticket(stack)
        for n, org in enumerate((big, big, small)):
            stack.zendesk.agent_create_ticket(
                subject=f"Charged twice {n}",
                comment={"body": "?"},
                type="incident",
                problem_id=pid,
                organization_id=org,
            )
        stack.drain()
        key = links(stack)[pid][0]
        fields = stack.jira.issue(key)["fields"]
        assert (fields["customfield_10052"], fields["customfield_10053"]) == (4, 2)
        assert fields["customfield_10054"] == 125000.5
        assert stack.jira.properties(key)["zendesk.impact"]["customer_value"] == 125000.5
    finally:
        stack.stop()


RATE = [{"min_tickets_per_day": 5, "priority": "Highest"}]


def priority_changes(stack: LocalStack, key: str) -> list[tuple[str, str]]:
    """(who, to) for every priority change in the issue's history."""
    with stack.jira.state.lock:
        history = stack.jira.state.issue(key).history  # type: ignore[union-attr]
        return [
            (h.author, str(i.get("toString")))
            for h in history
            for i in h.items
            if i.get("field") == "priority"
        ]


def test_the_rate_rule_counts_by_creation_day_raises_once_and_respects_a_human(
    tmp_path: Path, database_url: str
) -> None:
    text = config_with(impact_debounce_seconds=0, priority=RATE)
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text).start()
    try:
        # Twenty days ago six customers reported it: linked today in bulk, they are no spike.
        stack.zendesk.advance_clock(-20 * 86400)
        pid = problem_ticket(stack)
        for n in range(5):
            incident(stack, pid, n)
        stack.zendesk.advance_clock(20 * 86400)
        stack.drain()
        key = links(stack)[pid][0]
        impact = stack.jira.properties(key)["zendesk.impact"]
        assert impact["tickets"] == 6 and impact["tickets_last_day"] == 0
        assert len(impact["tickets_per_day"]) == 14 and sum(impact["tickets_per_day"].values()) == 0
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Medium"
        # Last customer report: the newest ticket's creation, not the bulk link of today.
        reported = impact_fields(stack, key)["last_report"]
        assert (
            reported[:10]
            == stack.zendesk.ticket(pid)["created_at"][:10]
            != impact["last_linked"][:10]
        )

        for n in range(5, 10):  # five today
            incident(stack, pid, n)
        stack.drain()
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Highest"
        assert stack.jira.properties(key)["zendesk.impact"]["tickets_last_day"] == 5

        stack.jira.human_update(key, priority="Low")  # an engineer decides
        for n in range(10, 14):
            incident(stack, pid, n)
        stack.drain()
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Low"
        assert stack.jira.properties(key)["zendesk.impact"]["tickets_last_day"] == 9
        connector = stack.jira.api_account_id
        assert [c for c in priority_changes(stack, key) if c[0] == connector] == [
            (connector, "Highest")
        ]
    finally:
        stack.stop()
