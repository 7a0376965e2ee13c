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


def test_an_empty_problem_leaves_the_open_lists_after_its_grace_and_comes_back(
    stack: LocalStack,
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from connector.ops.queries import list_problems
    from connector.store.models import AuditEntry, Problem
    from connector.tasks import run_reconcile
    from tests.fake_clock import FakeClock

    key = stack.jira.human_create("SHIP", "Parcels stuck in Leipzig hub")
    ticket = stack.zendesk.agent_create_ticket(
        subject="Where is my parcel", comment={"body": "?"}, custom_fields=cf(stack, jira_issue=key)
    )["id"]
    stack.drain()
    stack.zendesk.agent_update_ticket(ticket, custom_fields=cf(stack, jira_issue=None))
    stack.drain()
    assert ticket not in links(stack)
    [(value, _)] = known_problem_options(stack).items()
    assert [p.jira_key for p in list_problems(stack.rt, "open")] == [key]  # within its grace

    clock = FakeClock(stack.rt.clock.now() + timedelta(hours=25))
    stack.rt.clock = clock
    run_reconcile(stack.rt, stack.rt.tasks)
    assert known_problem_options(stack) == {"zdjira_none": "(no open problem)"}
    assert list_problems(stack.rt, "open") == []
    assert [p.jira_key for p in list_problems(stack.rt, "all")] == [key]
    assert stack.jira.issue(key)["fields"]["status"]["name"] == "To Do"  # Jira untouched
    with stack.rt.db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-1] == "problem.dormant"

    again = stack.zendesk.agent_create_ticket(
        subject="Parcel?", comment={"body": "?"}, custom_fields=cf(stack, jira_issue=key)
    )["id"]
    stack.drain()
    assert links(stack)[again][0] == key
    assert value in known_problem_options(stack)
    assert [p.jira_key for p in list_problems(stack.rt, "open")] == [key]
    with stack.rt.db.session() as s:
        problem = s.scalars(select(Problem)).one()
        assert (problem.dormant_at, problem.emptied_at) == (None, None)
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert "problem.active_again" in actions
