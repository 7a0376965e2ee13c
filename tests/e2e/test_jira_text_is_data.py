"""Text from Jira is data: a solution holding Zendesk Liquid reaches the customer and the agents
as that text, never as the requester's or an agent's fields; only the admin's template may use
placeholders. The Zendesk sandbox renders placeholders in comments as Zendesk does."""

from __future__ import annotations

from connector.demo.stack import LocalStack
from connector.zendesk.text import ZERO_WIDTH_SPACE, inert
from tests.e2e.test_linking import internal_notes
from tests.e2e.test_mirror import linked_problem, mstack  # noqa: F401 (fixture)
from tests.e2e.test_replies import (  # noqa: F401 (fixtures)
    customers,
    fast_fanout,
    problem_with,
    public,
    settle,
    stack,
)

LIQUID = "{{ticket.requester.email}} {% if true %}yes{% endif %} {{current_user.email}}"


def test_a_solution_holding_liquid_reaches_the_customer_as_text(stack: LocalStack) -> None:  # noqa: F811
    [ticket] = customers(stack, 1, prefix="Eve")
    pid = problem_with(stack, [ticket], solution=f"Refunded. Your address: {LIQUID}", kind="fix")
    settle(stack, pid)
    [reply] = public(stack, ticket)
    assert "eve0@example.com" not in reply and "admin@example.com" not in reply
    assert reply.startswith("Hi Eve0,")  # the admin's template placeholder still renders
    assert f"Your address: {LIQUID}" in reply.replace(ZERO_WIDTH_SPACE, "")


def test_mirror_notes_quote_jira_without_rendering_it(mstack: LocalStack) -> None:  # noqa: F811
    key, tickets = linked_problem(mstack, incidents=1)
    requester = mstack.zendesk.ticket(tickets[1])["requester_id"]
    email = mstack.zendesk.state.users[requester]["email"]
    mstack.jira.human_update(key, customfield_10050=f"Workaround: {LIQUID}")
    mstack.drain()
    notes = "\n".join(internal_notes(mstack, tickets[1]))
    assert email not in notes
    assert f"Workaround: {LIQUID}" in notes.replace(ZERO_WIDTH_SPACE, "")


def test_inert_breaks_every_liquid_delimiter_and_nothing_else() -> None:
    assert inert("a {{b}} {%c%} d") == "a {\u200b{b}\u200b} {\u200b%c%\u200b} d"
    assert inert("{ x } 50% off {}") == "{ x } 50% off {}"
