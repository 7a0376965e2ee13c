"""The problem ticket gets what its requester should: an end user the reply, an agent (an
internal problem ticket) an internal note. And it is solved only once every incident has its
answer: solving a problem ticket makes Zendesk copy its comment onto its unsolved incidents,
which would answer a customer twice (here an incident left pending by a workaround reply whose
resolution reply is parked, then sent by `replies retry`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.models import Link, LinkVia, Problem, Reply, ReplyState
from connector.sync.replies.approval import retry_failed
from tests.e2e.test_replies import make_stack, notes, public, resolve, settle


@pytest.mark.parametrize("requester", ["end_user", "agent"])
def test_the_problem_ticket_never_causes_a_second_reply(tmp_path: Path, requester: str) -> None:
    stack = make_stack(tmp_path)
    try:
        zd = stack.zendesk
        reporter = (
            zd.create_user("Pat Reporter", "pat@example.com")["id"]
            if requester == "end_user"
            else zd.agent_user_id
        )
        problem_ticket = zd.agent_create_ticket(
            subject="Double charge",
            comment={"body": "Several customers were charged twice"},
            type="problem",
            requester_id=reporter,
        )["id"]
        customers = [zd.create_user(f"Cy{i} Doe", f"cy{i}@example.com")["id"] for i in range(2)]
        answered, waiting = (
            zd.agent_create_ticket(
                subject="Charged twice",
                comment={"body": "Charged twice?"},
                type="incident",
                problem_id=problem_ticket,
                requester_id=customer,
            )["id"]
            for customer in customers
        )
        zd.agent_update_ticket(waiting, status="pending")  # as a workaround reply leaves it
        key = stack.jira.human_create("FIN", "Double charge")
        with stack.rt.db.session() as s:
            problem = Problem(cause_key=f"zendesk:{problem_ticket}", team="billing")
            problem.summary, problem.jira_key = "Double charge", key
            problem.jira_issue_id = stack.jira.issue(key)["id"]
            problem.zendesk_problem_ticket_id = problem_ticket
            s.add(problem)
            s.flush()
            pid = problem.id
            for ticket, via in (
                (problem_ticket, LinkVia.PROBLEM_TICKET),
                (answered, LinkVia.INCIDENT),
                (waiting, LinkVia.INCIDENT),
            ):
                s.add(Link(ticket_id=ticket, problem_id=pid, via=via, ticket_status="open"))
            # The waiting incident's reply is parked (Zendesk refused it for a while).
            s.add(
                Reply(
                    problem_id=pid,
                    ticket_id=waiting,
                    outcome="fixed",
                    state=ReplyState.FAILED,
                    error="RecordInvalid",
                )
            )
        resolve(stack, pid, "fixed")
        settle(stack, pid)

        assert len(public(stack, answered)) == 1
        assert public(stack, waiting) == []  # no copy of the problem ticket's comment
        assert zd.ticket(waiting)["status"] == "pending"
        assert zd.ticket(problem_ticket)["status"] != "solved"  # an incident is unanswered
        if requester == "end_user":
            assert public(stack, problem_ticket) == [
                "Hi Pat, the problem you reported is fixed. We refunded the second charge."
            ]
        else:
            assert public(stack, problem_ticket) == []
            assert "This problem ticket is left as it is" in notes(stack, problem_ticket)[-1]

        assert retry_failed(stack.rt, pid, actor="test").tickets == 1
        settle(stack, pid)
        assert [len(public(stack, t)) for t in (answered, waiting)] == [1, 1]
        with stack.rt.db.session() as s:
            states = {r.ticket_id: r.state for r in s.scalars(select(Reply))}
        assert set(states.values()) == {ReplyState.SENT}
    finally:
        stack.stop()
