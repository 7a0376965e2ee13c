"""The Known problem dropdown and the link note say what will really happen: the placeholder
option only while no problem is listed, resolved problems marked as such, and a link note that
promises a reply only where one is configured (and says it goes out at once for a resolved
problem)."""

from __future__ import annotations

from connector.demo.stack import LocalStack
from tests.e2e.test_linking import cf, internal_notes, known_problem_options, links


def test_dropdown_labels_and_link_notes_tell_the_truth(stack: LocalStack) -> None:
    assert known_problem_options(stack) == {"zdjira_none": "(no open problem)"}
    key = stack.jira.human_create("SHIP", "Parcels stuck in Leipzig hub")
    first = stack.zendesk.agent_create_ticket(
        subject="Where is my parcel", comment={"body": "?"}, custom_fields=cf(stack, jira_issue=key)
    )["id"]
    stack.drain()
    options = known_problem_options(stack)
    assert "zdjira_none" not in options  # problems are listed: no placeholder
    [(value, name)] = options.items()
    assert name == f"{key} Parcels stuck in Leipzig hub"
    [note] = internal_notes(stack, first)
    assert "When the issue is resolved as Done or Fixed, the customer gets a public reply" in note
    assert "as Won't Do or Duplicate, only an internal note" in note

    stack.jira.human_comment(key, "#customer-reply The parcels are on their way again.")
    stack.jira.human_transition(key, "Done", resolution="Fixed")
    stack.drain()
    assert known_problem_options(stack)[value] == f"{key} Parcels stuck in Leipzig hub (resolved)"

    late = stack.zendesk.agent_create_ticket(
        subject="Parcel?", comment={"body": "?"}, custom_fields=cf(stack, known_problem=value)
    )["id"]
    stack.drain()
    assert links(stack)[late][0] == key
    [note] = internal_notes(stack, late)
    assert "already resolved (fixed): the customer gets the reply now" in note
