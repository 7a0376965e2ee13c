"""What people read is true: ticket statuses and open counts follow Zendesk, whoever changed the
ticket: an agent (its webhook) or the connector itself (its replies solve tickets, and its own
changes send no webhook it reads)."""

from __future__ import annotations

from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.store.models import Link, Problem
from tests.e2e.conftest import config_with


def statuses(stack: LocalStack) -> dict[int, str | None]:
    with stack.rt.db.session() as s:
        return {link.ticket_id: link.ticket_status for link in s.scalars(select(Link))}


def problem(stack: LocalStack) -> Problem:
    with stack.rt.db.session() as s:
        return s.scalars(select(Problem)).one()


def test_open_counts_follow_agents_and_the_connectors_own_replies(tmp_path: object) -> None:
    from pathlib import Path

    stack = LocalStack(
        Path(str(tmp_path)),
        config_text=config_with(
            impact_debounce_seconds=0,
            mirror_debounce_seconds=0,
            jira={"solution_field": "customfield_10050"},
        ),
    ).start()
    try:
        tickets = [
            stack.zendesk.agent_create_ticket(
                subject=f"Parcel lost {n}", comment={"body": "?"}, tags=["parcel_lost"]
            )["id"]
            for n in range(4)
        ]
        stack.drain()
        key = problem(stack).jira_key
        assert key is not None
        assert stack.jira.properties(key)["zendesk.impact"]["open_tickets"] == 4

        # An agent solves one ticket by hand: its webhook tells.
        stack.zendesk.agent_update_ticket(tickets[0], status="solved")
        stack.drain()
        assert statuses(stack)[tickets[0]] == "solved"
        assert problem(stack).open_ticket_count == 3
        assert stack.jira.properties(key)["zendesk.impact"]["open_tickets"] == 3

        # The issue resolves; the connector's replies solve the other three.
        stack.jira.human_update(key, customfield_10050="Found; it is on its way.")
        stack.jira.human_transition(key, "Done", resolution="Fixed")
        stack.drain()
        assert all(stack.zendesk.ticket(t)["status"] == "solved" for t in tickets)
        assert set(statuses(stack).values()) == {"solved"}
        assert (problem(stack).ticket_count, problem(stack).open_ticket_count) == (4, 0)
        assert stack.jira.properties(key)["zendesk.impact"]["open_tickets"] == 0
    finally:
        stack.stop()


def test_a_config_change_is_applied_to_open_problems_at_the_next_reconcile(
    tmp_path: object,
) -> None:
    from pathlib import Path

    import yaml

    from connector.config import load_config
    from connector.tasks import run_reconcile

    stack = LocalStack(Path(str(tmp_path)), config_text=config_with(mirror_debounce_seconds=0))
    stack.start()
    try:
        ticket = stack.zendesk.agent_create_ticket(
            subject="Parcel lost", comment={"body": "?"}, tags=["parcel_lost"]
        )["id"]
        stack.drain()
        run_reconcile(stack.rt, stack.rt.tasks)  # the config as it was: nothing to re-read
        stack.drain()
        key = problem(stack).jira_key
        assert key is not None
        # The team agrees a solution in a field the connector was not configured to read.
        stack.jira.human_update(key, customfield_10050="Check the new tracking page.")
        stack.drain()
        assert problem(stack).solution_text is None

        # The admin configures the field and restarts: the next reconcile re-reads the issue.
        data = yaml.safe_load(stack.config_path.read_text())
        data["jira"]["solution_field"] = "customfield_10050"
        stack.config_path.write_text(yaml.safe_dump(data))
        stack.rt.config = load_config(stack.config_path)
        assert run_reconcile(stack.rt, stack.rt.tasks)["remirrored"] == 1
        stack.drain()
        assert problem(stack).solution_text == "Check the new tracking page."
        solution = stack.rt.config.zendesk.fields.solution
        shown = stack.zendesk.ticket(ticket)["custom_fields"]
        assert {"id": solution, "value": "Check the new tracking page."} in shown
        assert run_reconcile(stack.rt, stack.rt.tasks)["remirrored"] == 0  # once
    finally:
        stack.stop()
