"""Mirror: Jira status, agreed solution and expected fix date flow back to every linked ticket."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.store.models import AuditEntry, Problem, ProblemState
from tests.e2e.conftest import NO_REPLIES, both_jira, config_with, stop_checked
from tests.e2e.test_linking import field_value, internal_notes, links, problem_ticket

SOLUTION_FIELDS = {
    "solution_field": "customfield_10050",
    "solution_kind_field": "customfield_10051",
}


@pytest.fixture
def mstack(tmp_path: Path, database_url: str, jira_deployment: str) -> Iterator[LocalStack]:
    text = config_with(
        impact_debounce_seconds=0,
        mirror_debounce_seconds=0,
        jira={**SOLUTION_FIELDS, "solution_comment_marker": "#customer-reply"},
        replies={"templates": NO_REPLIES},  # mirror only: no customer replies in these tests
    )
    stack = LocalStack(
        tmp_path, database_url=database_url, config_text=text, jira_deployment=jira_deployment
    ).start()
    yield stack
    stop_checked(stack)


def linked_problem(stack: LocalStack, incidents: int = 2) -> tuple[str, list[int]]:
    pid = problem_ticket(stack)
    tickets = [pid] + [
        int(
            stack.zendesk.agent_create_ticket(
                subject=f"Charged twice {n}", comment={"body": "?"}, type="incident", problem_id=pid
            )["id"]
        )
        for n in range(incidents)
    ]
    stack.drain()
    key = links(stack)[pid][0]
    assert key is not None
    return key, tickets


def updates(stack: LocalStack) -> int:
    return stack.zendesk.counters.get("PUT /tickets/update_many", 0)


def test_status_change_reaches_every_ticket_in_ceil_n_over_100_calls(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=149)
    assert len(tickets) == 150
    before = updates(mstack)
    mstack.jira.human_transition(key, "In Progress")
    mstack.drain()
    assert updates(mstack) - before == math.ceil(150 / 100)
    for ticket in (tickets[0], tickets[77], tickets[-1]):
        assert field_value(mstack, ticket, "jira_status") == "In Progress"
        assert "jira_status_indeterminate" in mstack.zendesk.ticket(ticket)["tags"]
        assert "jira_status_new" not in mstack.zendesk.ticket(ticket)["tags"]


@both_jira
def test_solution_and_due_date_are_mirrored_with_one_note_each(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack)
    notes_before = len(internal_notes(mstack, tickets[1]))
    mstack.jira.human_update(
        key, customfield_10050="Refunds go out on Friday", customfield_10051="Workaround"
    )
    mstack.drain()
    assert field_value(mstack, tickets[1], "solution") == "Refunds go out on Friday"
    assert field_value(mstack, tickets[1], "solution_kind") == "workaround"
    mstack.jira.human_update(key, duedate="2026-12-24")
    mstack.drain()
    assert field_value(mstack, tickets[1], "expected_fix") == "2026-12-24"
    mstack.jira.human_update(key, labels=["touched"])  # nothing the tickets show: no write
    before = updates(mstack)
    mstack.drain()
    assert updates(mstack) == before
    notes = internal_notes(mstack, tickets[1])[notes_before:]
    assert len(notes) == 2
    assert "Refunds go out on Friday" in notes[0] and "2026-12-24" in notes[1]


@both_jira
def test_the_marker_comment_is_the_solution_and_ordinary_comments_stay_in_jira(
    mstack: LocalStack,
) -> None:
    mstack.rt.config.jira.solution_field = None
    key, tickets = linked_problem(mstack, incidents=1)
    mstack.jira.human_comment(key, "Root cause: a cron job ran twice. Internal only.")
    mstack.jira.human_comment(
        key, "#customer-reply The duplicate charge is refunded automatically."
    )
    mstack.drain()
    assert (
        field_value(mstack, tickets[1], "solution")
        == "The duplicate charge is refunded automatically."
    )
    everything = " ".join(c["body"] for c in mstack.zendesk.comments(tickets[1]))
    assert "cron job" not in everything


@both_jira
def test_a_dropped_webhook_is_healed_by_reconcile(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    mstack.jira.webhook_knobs(drop=True)
    mstack.jira.human_transition(key, "In Progress")
    mstack.drain()
    assert field_value(mstack, tickets[0], "jira_status") != "In Progress"
    mstack.rt.tasks["reconcile"].call_local()
    mstack.drain()
    assert field_value(mstack, tickets[0], "jira_status") == "In Progress"


@both_jira
def test_duplicate_and_reordered_jira_deliveries_end_in_the_right_state(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    mstack.jira.webhook_knobs(duplicate=True, reorder=True)
    mstack.jira.human_transition(key, "In Progress")
    mstack.jira.human_update(key, duedate="2027-01-15")
    mstack.jira.human_update(
        key, customfield_10050="Use the web form", customfield_10051="Workaround"
    )
    mstack.drain()
    assert field_value(mstack, tickets[1], "jira_status") == "In Progress"
    assert field_value(mstack, tickets[1], "expected_fix") == "2027-01-15"
    assert field_value(mstack, tickets[1], "solution") == "Use the web form"


def problem_row(stack: LocalStack) -> Any:
    with stack.rt.db.session() as s:
        return s.scalars(select(Problem).order_by(Problem.id)).first()


def test_a_moved_issue_keeps_its_links_and_shows_the_new_key(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    new_key = mstack.jira.move_issue(key, "ENG")
    mstack.drain()
    assert problem_row(mstack).jira_key == new_key
    assert {links(mstack)[t][0] for t in tickets} == {new_key}
    assert field_value(mstack, tickets[1], "jira_issue") == new_key
    mstack.zendesk.agent_update_ticket(tickets[1], status="open")  # re-evaluated: still linked
    mstack.drain()
    assert links(mstack)[tickets[1]][0] == new_key


def test_a_deleted_issue_leaves_a_note_and_closes_the_problem(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    mstack.jira.delete_issue(key)
    mstack.drain()
    assert problem_row(mstack).state is ProblemState.DELETED
    assert links(mstack) == {}
    assert "was deleted" in internal_notes(mstack, tickets[1])[-1]
    assert all(not c["public"] for t in tickets for c in mstack.zendesk.comments(t)[1:])


def test_reopen_is_mirrored_with_a_note_and_recorded(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    mstack.jira.human_transition(key, "Done", resolution="Fixed")
    mstack.drain()
    assert problem_row(mstack).state is ProblemState.RESOLVED
    mstack.jira.human_transition(key, "To Do")
    mstack.drain()
    assert problem_row(mstack).state is ProblemState.OPEN
    assert field_value(mstack, tickets[1], "jira_status") == "To Do"
    assert "jira_status_new" in mstack.zendesk.ticket(tickets[1])["tags"]
    notes = internal_notes(mstack, tickets[1])
    assert any(f"{key} is resolved (Fixed)" in n for n in notes)
    assert notes[-1] == f"Jira issue {key} is To Do."
    with mstack.rt.db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.index("resolved") < actions.index("reopened")


def test_a_duplicate_resolution_relinks_the_tickets_to_the_surviving_issue(
    mstack: LocalStack,
) -> None:
    key, tickets = linked_problem(mstack, incidents=2)
    survivor = mstack.jira.human_create("FIN", "Double charge (original report)")
    mstack.jira.link_duplicate(key, survivor)
    mstack.jira.human_transition(key, "Done", resolution="Duplicate")
    mstack.drain()
    assert {links(mstack)[t][0] for t in tickets} == {survivor}
    assert field_value(mstack, tickets[2], "jira_issue") == survivor
    mstack.zendesk.agent_update_ticket(tickets[2], status="open")  # stays with the survivor
    mstack.drain()
    assert links(mstack)[tickets[2]][0] == survivor


@both_jira
def test_jira_events_caused_by_the_connector_are_ignored(mstack: LocalStack) -> None:
    key, _tickets = linked_problem(mstack, incidents=1)
    reads_before = mstack.jira.counters.get("GET /issue", 0)
    writes_before = updates(mstack)
    # The connector's own Jira write (what an impact or summary update looks like):
    mstack.rt.jira.add_comment(key, "Delivery summary: written by the connector")
    mstack.rt.jira.update_issue(key, {"labels": ["customer-impact", "by-connector"]})
    mstack.drain()
    assert mstack.jira.wait_for_deliveries(5)
    assert mstack.jira.counters.get("GET /issue", 0) == reads_before
    assert updates(mstack) == writes_before


def store_snapshot(stack: LocalStack, mirrored: dict[str, Any]) -> None:
    with stack.rt.db.session() as s:
        s.scalars(select(Problem)).one().mirrored = mirrored


# What an older version stored: no solution_kind, resolution or fix_version, and a key that no
# longer exists.
def old_snapshot(key: str) -> dict[str, Any]:
    return {"key": key, "status": "To Do", "category": "new", "solution": None, "retired": 1}


def test_a_snapshot_stored_by_an_older_version_is_mirrored_over(mstack: LocalStack) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    store_snapshot(mstack, old_snapshot(key))
    notes_before = len(internal_notes(mstack, tickets[1]))
    mstack.jira.human_update(
        key, customfield_10050="Refunds go out on Friday", customfield_10051="Workaround"
    )
    mstack.drain()
    assert field_value(mstack, tickets[1], "solution") == "Refunds go out on Friday"
    assert field_value(mstack, tickets[1], "solution_kind") == "workaround"
    # The solution changed: one note. The expected fix was unknown, not changed: no line.
    assert internal_notes(mstack, tickets[1])[notes_before:] == [
        "Agreed solution (workaround): Refunds go out on Friday"
    ]
    mirrored = problem_row(mstack).mirrored
    assert "retired" not in mirrored and mirrored["solution_kind"] == "workaround"


def test_a_ticket_joining_a_problem_with_an_older_snapshot_is_confirmed(
    mstack: LocalStack,
) -> None:
    key, tickets = linked_problem(mstack, incidents=1)
    store_snapshot(mstack, {**old_snapshot(key), "status": "In Progress"})
    late = int(
        mstack.zendesk.agent_create_ticket(
            subject="Charged twice, late",
            comment={"body": "?"},
            type="incident",
            problem_id=tickets[0],
        )["id"]
    )
    mstack.drain()
    assert links(mstack)[late][0] == key
    assert field_value(mstack, late, "jira_issue") == key
    assert field_value(mstack, late, "jira_status") == "In Progress"
    assert any(f"Linked to Jira issue {key}" in n for n in internal_notes(mstack, late))


@both_jira
def test_jira_deliveries_are_signed_and_an_unsigned_one_is_refused(mstack: LocalStack) -> None:
    """Cloud and Data Center 10 sign with the secret install set; the web tier checks it."""
    key, _tickets = linked_problem(mstack, incidents=1)
    mstack.jira.human_transition(key, "In Progress")
    mstack.drain()
    sent = [d for d in mstack.jira.deliveries if d["status"] is not None]
    assert sent and all(d["headers"]["X-Hub-Signature"].startswith("sha256=") for d in sent)
    assert {d["status"] for d in sent} <= {200, 202}
    url = str(mstack.rt.settings.public_url).rstrip("/") + "/webhooks/jira"
    forged = requests.post(
        url, data=sent[-1]["body"], headers={"Content-Type": "application/json"}, timeout=5
    )
    assert forged.status_code == 401
