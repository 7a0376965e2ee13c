"""Every linking path, over HTTP, with the real clients against the sandboxes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.store.models import AuditEntry, Link, LinkVia, Problem
from tests.e2e.conftest import both_jira


def cf(stack: LocalStack, **values: Any) -> list[dict[str, Any]]:
    return [{"id": getattr(stack.fields, key), "value": value} for key, value in values.items()]


def links(stack: LocalStack) -> dict[int, tuple[str | None, LinkVia]]:
    with stack.rt.db.session() as s:
        rows = s.execute(select(Link.ticket_id, Problem.jira_key, Link.via).join(Problem)).all()
        return {ticket: (key, via) for ticket, key, via in rows}


def field_value(stack: LocalStack, ticket_id: int, key: str) -> Any:
    field_id = getattr(stack.fields, key)
    ticket = stack.zendesk.ticket(ticket_id)
    return next((f["value"] for f in ticket["custom_fields"] if f["id"] == field_id), None)


def internal_notes(stack: LocalStack, ticket_id: int) -> list[str]:
    return [c["body"] for c in stack.zendesk.comments(ticket_id) if not c["public"]]


def problem_ticket(stack: LocalStack, team: str = "billing", subject: str = "Double charge") -> int:
    ticket = stack.zendesk.agent_create_ticket(
        subject=subject,
        comment={"body": "Many customers were charged twice"},
        type="problem",
        custom_fields=cf(stack, owning_team=team_option(team)),
    )
    return int(ticket["id"])


@both_jira
def test_problem_ticket_with_owning_team_creates_one_jira_issue_in_the_team_project(
    stack: LocalStack,
) -> None:
    pid = problem_ticket(stack)
    stack.drain()
    [(key, via)] = links(stack).values()
    assert key is not None and key.startswith("FIN-") and via is LinkVia.PROBLEM_TICKET
    issue = stack.jira.issue(key)
    fields = issue["fields"]
    assert fields["summary"] == "Double charge"
    assert fields["issuetype"]["name"] == "Task"
    assert "customer-impact" in fields["labels"]
    assert f"/agent/tickets/{pid}" in fields["description"]
    assert "charged twice" not in fields["description"]  # no customer text in Jira
    assert field_value(stack, pid, "jira_issue") == key
    notes = internal_notes(stack, pid)
    assert len(notes) == 1 and key in notes[0] and "/browse/" in notes[0]
    assert stack.jira.properties(key)["zendesk.impact"]["tickets"] == 1


@both_jira
def test_incidents_link_to_their_problem_and_impact_counts_them(stack: LocalStack) -> None:
    org_a = stack.zendesk.create_organization("Acme")["id"]
    org_b = stack.zendesk.create_organization("Globex")["id"]
    pid = problem_ticket(stack, team="product", subject="Export crashes")
    incidents = [
        stack.zendesk.agent_create_ticket(
            subject=f"Crash {i}",
            comment={"body": "It crashes"},
            type="incident",
            problem_id=pid,
            organization_id=org_a if i % 2 else org_b,
        )["id"]
        for i in range(4)
    ]
    stack.drain()
    linked = links(stack)
    key = linked[pid][0]
    assert key is not None and key.startswith("ENG-")
    assert all(linked[i] == (key, LinkVia.INCIDENT) for i in incidents)
    assert stack.jira.issue(key)["fields"]["components"][0]["name"] == "Support"
    impact = stack.jira.properties(key)["zendesk.impact"]
    assert (impact["tickets"], impact["organizations"]) == (5, 2)
    assert all(field_value(stack, i, "jira_issue") == key for i in incidents)
    assert all(len(internal_notes(stack, i)) == 1 for i in incidents)


def known_problem_options(stack: LocalStack) -> dict[str, str]:
    field = stack.rt.zendesk.get_ticket_field(stack.fields.known_problem)
    return {o["value"]: o["name"] for o in field["custom_field_options"]}


def test_known_problem_dropdown_lists_open_problems_and_links(stack: LocalStack) -> None:
    problem_ticket(stack, team="docs", subject="Setup guide step 4 is wrong")
    stack.drain()
    [(key, _)] = links(stack).values()
    options = known_problem_options(stack)
    [(value, name)] = [(v, n) for v, n in options.items() if v.startswith("zdjira_problem_")]
    assert name == f"{key} Setup guide step 4 is wrong"
    ticket = stack.zendesk.agent_create_ticket(
        subject="Step 4?", comment={"body": "?"}, custom_fields=cf(stack, known_problem=value)
    )["id"]
    stack.drain()
    assert links(stack)[ticket] == (key, LinkVia.KNOWN_PROBLEM)
    assert field_value(stack, ticket, "jira_issue") == key


@both_jira
def test_pasting_a_jira_key_adopts_the_issue_with_the_team_of_its_project(
    stack: LocalStack,
) -> None:
    key = stack.jira.human_create("SHIP", "Parcels stuck in Leipzig hub")
    ticket = stack.zendesk.agent_create_ticket(
        subject="Where is my parcel",
        comment={"body": "?"},
        custom_fields=cf(stack, jira_issue=key.lower()),
    )["id"]
    stack.drain()
    assert links(stack)[ticket] == (key, LinkVia.JIRA_FIELD)
    with stack.rt.db.session() as s:
        problem = s.scalars(select(Problem)).one()
        assert (problem.team, problem.summary) == ("shipping", "Parcels stuck in Leipzig hub")
        assert problem.jira_status == "To Do"  # read at once, not at the next reconcile
    assert len([i for i in stack.jira.issue_keys() if i.startswith("SHIP-")]) == 1  # adopted
    assert field_value(stack, ticket, "jira_status") == "To Do"


def test_an_unknown_key_gets_one_internal_note_and_no_link(stack: LocalStack) -> None:
    ticket = stack.zendesk.agent_create_ticket(
        subject="Hm", comment={"body": "?"}, custom_fields=cf(stack, jira_issue="FIN-999")
    )["id"]
    stack.drain()
    stack.zendesk.agent_update_ticket(ticket, status="open")  # another change: no second note
    stack.drain()
    assert ticket not in links(stack)
    notes = internal_notes(stack, ticket)
    assert len(notes) == 1 and "FIN-999" in notes[0]


def test_routing_rules_link_automatically(stack: LocalStack) -> None:
    tickets = [
        stack.zendesk.agent_create_ticket(
            subject=f"Lost {i}", comment={"body": "?"}, tags=["parcel_lost"]
        )["id"]
        for i in range(3)
    ]
    stack.drain()
    linked = links(stack)
    keys = {linked[t][0] for t in tickets}
    assert len(keys) == 1 and next(iter(keys), "").startswith("SHIP-")  # type: ignore[union-attr]
    assert {linked[t][1] for t in tickets} == {LinkVia.RULE}
    assert stack.jira.issue(next(iter(keys)))["fields"]["summary"] == "Lost parcels"


def test_unlink_and_move_are_audited_and_shown_on_the_ticket(stack: LocalStack) -> None:
    first = problem_ticket(stack, team="billing", subject="Double charge")
    second = problem_ticket(stack, team="docs", subject="Wrong manual")
    incident = stack.zendesk.agent_create_ticket(
        subject="Charged twice", comment={"body": "?"}, type="incident", problem_id=first
    )["id"]
    stack.drain()
    key1, key2 = links(stack)[first][0], links(stack)[second][0]
    assert links(stack)[incident] == (key1, LinkVia.INCIDENT)

    stack.zendesk.agent_update_ticket(incident, problem_id=second)  # move
    stack.drain()
    assert links(stack)[incident] == (key2, LinkVia.INCIDENT)
    assert field_value(stack, incident, "jira_issue") == key2

    assert field_value(stack, incident, "jira_status") == "To Do"
    assert "jira_status_new" in stack.zendesk.ticket(incident)["tags"]

    stack.zendesk.agent_update_ticket(incident, type="question", problem_id=None)  # unlink
    stack.drain()
    assert incident not in links(stack)
    assert field_value(stack, incident, "jira_issue") in (None, "")
    # Nothing of the old problem stays: no Jira status, no status tag.
    assert field_value(stack, incident, "jira_status") in (None, "")
    assert not [t for t in stack.zendesk.ticket(incident)["tags"] if t.startswith("jira_status_")]
    notes = internal_notes(stack, incident)
    assert [key1 in notes[0], key2 in notes[1], "Unlinked" in notes[2]] == [True, True, True]
    with stack.rt.db.session() as s:
        actions = [
            (a.action, a.problem_id)
            for a in s.scalars(
                select(AuditEntry).where(AuditEntry.ticket_id == incident).order_by(AuditEntry.id)
            )
        ]
    assert [a for a, _ in actions] == ["link", "move.out", "move", "unlink"]


def test_clearing_the_jira_field_unlinks_a_pasted_key(stack: LocalStack) -> None:
    key = stack.jira.human_create("FIN", "Refund delays")
    ticket = stack.zendesk.agent_create_ticket(
        subject="Refund?", comment={"body": "?"}, custom_fields=cf(stack, jira_issue=key)
    )["id"]
    stack.drain()
    assert ticket in links(stack)
    stack.zendesk.agent_update_ticket(ticket, custom_fields=cf(stack, jira_issue=None))
    stack.drain()
    assert ticket not in links(stack)


def test_the_worker_keeps_the_names_it_reads_with_the_tickets_in_the_same_calls(
    stack: LocalStack,
) -> None:
    """The dashboard shows requesters, organisations and agents by name: the worker stores the
    users and organizations sideloaded with the tickets it reads anyway (one read per 100)."""
    from connector.ops.problem_detail import problem_detail

    acme = stack.zendesk.create_organization("Acme Corp")["id"]
    globex = stack.zendesk.create_organization("Globex")["id"]
    people = {
        org: stack.zendesk.create_user(
            name, f"{name.split()[0].lower()}@example.com", "end-user", org
        )
        for org, name in ((acme, "Dana Scully"), (globex, "Fox Mulder"))
    }
    reads_before = stack.zendesk.counters.get("GET /tickets/show_many", 0)
    tickets = [
        stack.zendesk.agent_create_ticket(
            subject=f"Parcel {n} lost",
            comment={"body": "?"},
            tags=["parcel_lost"],
            requester_id=people[acme if n % 2 else globex]["id"],
        )["id"]
        for n in range(4)
    ]
    stack.drain()
    reads = stack.zendesk.counters.get("GET /tickets/show_many", 0) - reads_before
    assert 1 <= reads <= len(tickets)  # no extra call for the names
    lookups = ("GET /users/{id}", "GET /users/show_many", "GET /organizations/show_many")
    assert not any(stack.zendesk.counters.get(k) for k in lookups)  # nor a lookup of names
    [problem_id] = problem_ids(stack)
    detail = problem_detail(stack.rt, problem_id)
    assert detail is not None
    assert sorted(detail.organization_names) == ["Acme Corp", "Globex"]
    by_ticket = {lk.ticket_id: lk for lk in detail.links}
    assert {by_ticket[t].requester for t in tickets} == {"Dana Scully", "Fox Mulder"}
    assert {by_ticket[t].organization for t in tickets} == {"Acme Corp", "Globex"}
    assert {lk.linked_by_name for lk in detail.links} == {"a linking rule"}

    # An agent links a ticket of theirs by pasting the key: the link is theirs, by name.
    key = detail.problem.jira_key
    pasted = stack.zendesk.agent_create_ticket(
        subject="Mine too", comment={"body": "?"}, custom_fields=cf(stack, jira_issue=key)
    )["id"]
    stack.drain()
    after = problem_detail(stack.rt, problem_id)
    assert after is not None
    agent = stack.zendesk.state.users[stack.zendesk.agent_user_id]["name"]
    [link] = [lk for lk in after.links if lk.ticket_id == pasted]
    assert link.linked_by == f"agent:{stack.zendesk.agent_user_id}"
    assert link.linked_by_name == agent
    [entry] = [a for a in after.audit if a.ticket_id == pasted]
    assert (entry.label, entry.by, entry.text) == ("Ticket linked", agent, "the Jira issue field")


def problem_ids(stack: LocalStack) -> list[int]:
    with stack.rt.db.session() as s:
        return list(s.scalars(select(Problem.id)))


def test_the_connectors_own_changes_are_not_reprocessed(stack: LocalStack) -> None:
    problem_ticket(stack)
    stack.drain()
    reads_before = stack.zendesk.counters.get("GET /tickets/show_many", 0)
    notes_before = sum(len(internal_notes(stack, t["id"])) for t in stack.zendesk.tickets())
    stack.drain()  # the echo of our own update has been delivered and skipped
    assert stack.zendesk.counters.get("GET /tickets/show_many", 0) == reads_before
    assert sum(len(internal_notes(stack, t["id"])) for t in stack.zendesk.tickets()) == notes_before


def test_an_event_whose_trigger_was_lost_is_processed_by_reconcile(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from connector.store.models import InboundEvent, utcnow

    def lost() -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(stack.rt.tasks, "process_events", lost)
    pid = problem_ticket(stack)
    stack.drain()
    assert links(stack) == {}  # stored and acknowledged, but nobody was told
    with stack.rt.db.session() as s:
        s.execute(update(InboundEvent).values(received_at=utcnow() - timedelta(minutes=1)))
    monkeypatch.undo()
    stack.rt.tasks["reconcile"].call_local()
    stack.drain()
    assert links(stack)[pid][1] is LinkVia.PROBLEM_TICKET
