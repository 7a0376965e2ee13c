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
