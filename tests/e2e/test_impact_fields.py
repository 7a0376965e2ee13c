"""The impact on the Jira issue itself: the fields install created read the live numbers, a JQL
ordered by *Open tickets* ranks problems by impact, the watchers get no email per write, and a
field off the edit screen is skipped without failing the write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.demo.stack import LocalStack
from tests.e2e.conftest import config_with
from tests.e2e.test_linking import links, problem_ticket

PRIORITY = [{"min_tickets": 20, "priority": "Highest"}]


def incidents(stack: LocalStack, problem: int, orgs: list[int]) -> list[int]:
    return [
        int(
            stack.zendesk.agent_create_ticket(
                subject=f"Charged twice {n}",
                comment={"body": "?"},
                type="incident",
                problem_id=problem,
                organization_id=org,
            )["id"]
        )
        for n, org in enumerate(orgs)
    ]


def impact_fields(stack: LocalStack, key: str) -> dict[str, Any]:
    ids = stack.rt.config.jira.impact_fields
    fields = stack.jira.issue(key)["fields"]
    return {name: fields.get(fid) for name, fid in ids.model_dump().items() if fid}


def test_the_issue_fields_read_the_impact_and_rank_problems(
    tmp_path: Path, database_url: str
) -> None:
    text = config_with(impact_debounce_seconds=0, priority=PRIORITY)
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text).start()
    try:
        orgs = [stack.zendesk.create_organization(f"Org {n}")["id"] for n in range(3)]
        big = problem_ticket(stack)
        tickets = incidents(stack, big, [orgs[n % 3] for n in range(11)])
        small = problem_ticket(stack, subject="Refund missing")
        incidents(stack, small, [orgs[0]])
        stack.drain()
        big_key, small_key = links(stack)[big][0], links(stack)[small][0]
        shown = impact_fields(stack, big_key)
        assert (shown["tickets"], shown["open_tickets"], shown["organizations"]) == (12, 12, 3)
        assert shown["last_report"]  # a Jira date-time
        assert stack.jira.properties(big_key)["zendesk.impact"]["tickets"] == 12

        for ticket in tickets[:4]:
            stack.zendesk.agent_update_ticket(ticket, status="solved")
        stack.drain()
        assert impact_fields(stack, big_key)["open_tickets"] == 8

        found = stack.rt.jira.search('project = FIN ORDER BY "Open tickets" DESC', ["key"])
        assert [i.key for i in found.issues] == [big_key, small_key]
        connector = stack.jira.api_account_id
        assert [a for _k, a in stack.jira.state.watcher_emails if a == connector] == []
    finally:
        stack.stop()


def test_a_field_off_the_edit_screen_is_skipped_and_the_rest_is_written(
    tmp_path: Path, database_url: str
) -> None:
    priority = [{"min_tickets": 2, "priority": "High"}]
    text = config_with(impact_debounce_seconds=0, priority=priority)
    stack = LocalStack(tmp_path, database_url=database_url, config_text=text).start()
    try:
        state, ids = stack.jira.state, stack.rt.config.jira.impact_fields
        screen = state.screen_for("FIN", "10001", "edit")
        for fields in (f for _name, f in screen.tabs.values()):
            for gone in (ids.open_tickets, "priority"):
                if gone in fields:
                    fields.remove(gone)
        pid = problem_ticket(stack)
        incidents(stack, pid, [None, None])  # type: ignore[list-item]
        stack.drain()
        key = links(stack)[pid][0]
        shown = impact_fields(stack, key)
        assert shown["tickets"] == 3 and shown["open_tickets"] is None
        assert stack.jira.issue(key)["fields"]["priority"]["name"] == "Medium"
        assert stack.jira.properties(key)["zendesk.impact"]["tickets"] == 3
        # The refused fields are remembered: the next write is one edit, not two.
        edits = stack.jira.counters.get("PUT /issue", 0)
        incidents(stack, pid, [None])  # type: ignore[list-item]
        stack.drain()
        assert impact_fields(stack, key)["tickets"] == 4
        assert stack.jira.counters.get("PUT /issue", 0) == edits + 1
    finally:
        stack.stop()
