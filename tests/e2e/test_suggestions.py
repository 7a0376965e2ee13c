"""Suggestions end to end, over HTTP with the real clients against the sandboxes: the Suggested
problem field and one note, auto-link (and its undo), proposals accepted into a Jira issue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.ops.proposals import accept, list_proposals
from connector.store.models import AuditEntry, Link, LinkVia, Problem, TicketState
from connector.sync.known_problems import SUGGESTED_PREFIX
from connector.sync.signals import known_problem_value
from tests.e2e.conftest import config_with
from tests.e2e.test_linking import cf, field_value, internal_notes
from tests.e2e.test_replies import resolve

CAUSES = {
    "billing": (
        "Charged twice for one order",
        [
            "I was charged twice for the same order",
            "Double charge on my card for a single purchase",
            "You billed me two times for one order, please refund",
            "My credit card shows the same payment twice",
        ],
    ),
    "shipping": (
        "Parcels lost in transit",
        [
            "My parcel never arrived, tracking stopped a week ago",
            "The package is lost, the courier says it was never delivered",
            "Where is my delivery? The parcel has not arrived",
            "Tracking shows my parcel stuck in the depot for days",
        ],
    ),
    "product": (
        "Statements load slowly in the app",
        [
            "The app is slow when loading my statements",
            "The app freezes when I open my statements",
            "Statements take a minute to load in the app",
            "Loading my statements in the app is very slow",
        ],
    ),
    "docs": (
        "Router manual gives the wrong reset steps",
        [
            "The manual says to hold the reset button but nothing happens",
            "Instructions in the router guide are wrong about resetting",
            "The setup guide describes a reset button my router does not have",
            "Your documentation on resetting the router is incorrect",
        ],
    ),
}


def public_comments(stack: LocalStack, ticket_id: int) -> list[str]:
    return [c["body"] for c in stack.zendesk.comments(ticket_id) if c["public"]][1:]


def customer_ticket(stack: LocalStack, text: str, organization_id: int | None = None) -> int:
    subject = text.partition(",")[0]
    ticket = stack.zendesk.agent_create_ticket(
        subject=subject, comment={"body": text}, organization_id=organization_id
    )
    return int(ticket["id"])


def seed_problems(stack: LocalStack) -> dict[str, int]:
    """One problem per cause: a problem ticket and three incidents an agent linked."""
    found = {}
    for team, (summary, texts) in CAUSES.items():
        problem_ticket = stack.zendesk.agent_create_ticket(
            subject=summary,
            comment={"body": texts[0]},
            type="problem",
            custom_fields=cf(stack, owning_team=team_option(team)),
        )["id"]
        for text in texts[1:]:
            stack.zendesk.agent_create_ticket(
                subject=text, comment={"body": text}, type="incident", problem_id=problem_ticket
            )
        stack.drain()
        with stack.rt.db.session() as s:
            found[team] = s.scalars(
                select(Problem.id).where(Problem.zendesk_problem_ticket_id == problem_ticket)
            ).one()
    return found


def start(tmp_path: Path, database_url: str, **suggestions: Any) -> LocalStack:
    text = config_with(
        impact_debounce_seconds=0,
        suggestions={**_defaults(), "enabled": True, **suggestions},
    )
    return LocalStack(tmp_path, database_url=database_url, config_text=text).start()


def _defaults() -> dict[str, Any]:
    import yaml

    from connector.config import embedded_defaults_text

    return dict(yaml.safe_load(embedded_defaults_text())["suggestions"])


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[LocalStack]:
    s = start(tmp_path, database_url)
    yield s
    s.stop()


def key_of(stack: LocalStack, problem_id: int) -> str:
    with stack.rt.db.session() as s:
        key = s.get_one(Problem, problem_id).jira_key
        assert key is not None
        return key


def test_an_alike_new_ticket_gets_the_suggested_problem_and_one_note(stack: LocalStack) -> None:
    ids = seed_problems(stack)
    billing = key_of(stack, ids["billing"])
    ticket = customer_ticket(stack, "Why was my card charged twice for the order I placed?")
    stack.drain()
    assert field_value(stack, ticket, "suggested_problem") == f"{SUGGESTED_PREFIX}{ids['billing']}"
    [note] = internal_notes(stack, ticket)
    assert note.splitlines()[1].startswith(f"1. {billing} Charged twice for one order (")
    assert "Known problem" in note and "Suggested problem" in note
    assert public_comments(stack, ticket) == []  # nothing public
    with stack.rt.db.session() as s:
        assert s.get(Link, ticket) is None  # suggested, not linked: auto-link is off
    # Another change by the agent: the suggestion stands, no second note.
    stack.zendesk.agent_update_ticket(ticket, comment={"body": "Looking", "public": False})
    stack.drain()
    assert len([n for n in internal_notes(stack, ticket) if billing in n]) == 1
    # Linked tickets get no suggestion: the incidents have only their link note.
    with stack.rt.db.session() as s:
        linked = s.scalars(select(Link.ticket_id).where(Link.problem_id == ids["billing"])).all()
    for linked_ticket in linked:
        assert not [n for n in internal_notes(stack, linked_ticket) if "looks like" in n]
    # The agent accepts: chooses it in Known problem. Linked; the suggestion has done its job.
    option = known_problem_value(ids["billing"])
    stack.zendesk.agent_update_ticket(ticket, custom_fields=cf(stack, known_problem=option))
    stack.drain()
    with stack.rt.db.session() as s:
        assert s.get_one(Link, ticket).via is LinkVia.KNOWN_PROBLEM
    assert field_value(stack, ticket, "jira_issue") == billing
    assert field_value(stack, ticket, "suggested_problem") in (None, "")


def test_dismissing_a_suggestion_clears_it_for_good(stack: LocalStack) -> None:
    ids = seed_problems(stack)
    ticket = customer_ticket(stack, "The parcel I ordered never arrived and tracking is stuck")
    stack.drain()
    assert field_value(stack, ticket, "suggested_problem") == f"{SUGGESTED_PREFIX}{ids['shipping']}"
    stack.zendesk.agent_update_ticket(ticket, custom_fields=cf(stack, suggested_problem=None))
    stack.drain()
    stack.zendesk.agent_update_ticket(ticket, comment={"body": "Still looking", "public": False})
    stack.drain()
    assert field_value(stack, ticket, "suggested_problem") in (None, "")
    assert len(internal_notes(stack, ticket)) == 2  # the suggestion note and the agent's


def test_auto_link_answers_on_resolution_and_an_agent_undoes_it_for_good(
    tmp_path: Path, database_url: str
) -> None:
    stack = start(tmp_path, database_url, auto_link_confidence=0.5)
    try:
        ids = seed_problems(stack)
        key = key_of(stack, ids["billing"])
        kept = customer_ticket(stack, "I see a double charge for one purchase on my card")
        undone = customer_ticket(stack, "Charged twice on my credit card for the same order")
        stack.drain()
        for ticket in (kept, undone):
            assert field_value(stack, ticket, "known_problem") == known_problem_value(
                ids["billing"]
            )
            assert field_value(stack, ticket, "jira_issue") == key
            assert internal_notes(stack, ticket)[0].startswith(f"Linked automatically to {key}")
        with stack.rt.db.session() as s:
            via = {t: s.get_one(Link, t).via for t in (kept, undone)}
            entry = s.scalars(
                select(AuditEntry).where(AuditEntry.ticket_id == kept, AuditEntry.action == "link")
            ).one()
        assert via == {kept: LinkVia.SUGGESTION, undone: LinkVia.SUGGESTION}
        assert entry.actor == "suggestion" and 0.5 <= entry.detail["confidence"] <= 1
        # The agent clears Known problem: unlinked, and never auto-linked again.
        stack.zendesk.agent_update_ticket(undone, custom_fields=cf(stack, known_problem=None))
        stack.drain()
        stack.zendesk.agent_update_ticket(undone, comment={"body": "Other cause", "public": False})
        stack.drain()
        with stack.rt.db.session() as s:
            assert s.get(Link, undone) is None
            assert s.get_one(TicketState, undone).suggestion_opt_out is True
        assert field_value(stack, undone, "known_problem") in (None, "")
        # An auto-link whose update Zendesk never applied (no note, no tag, no Known problem) is
        # not an agent's undo: the ticket is unlinked, suggested again, and linked again.
        lost = customer_ticket(stack, "Charged twice for one order on my card")
        stack.drain()
        with stack.zendesk.state.lock:
            record = stack.zendesk.state.tickets[lost]
            record.tags = [t for t in record.tags if not t.startswith("zdjira_")]
            record.custom.pop(stack.fields.known_problem, None)
        stack.zendesk.agent_update_ticket(lost, comment={"body": "Any news?", "public": False})
        stack.drain()
        with stack.rt.db.session() as s:
            assert s.get_one(Link, lost).via is LinkVia.SUGGESTION
            assert s.get_one(TicketState, lost).suggestion_opt_out is False
        assert field_value(stack, lost, "known_problem") == known_problem_value(ids["billing"])
        resolve(stack, ids["billing"], "fixed")
        stack.drain()
        assert len(public_comments(stack, kept)) == 1  # answered like any linked ticket
        assert public_comments(stack, undone) == []
    finally:
        stack.stop()


NEW_CAUSE = [
    "The mobile app crashes when I scan a cheque with the camera",
    "The mobile app crashes when I scan a cheque",
    "The app crashes when I scan a cheque",
    "The mobile app crashes while scanning a cheque with the camera",
    "My mobile app crashes when scanning a cheque",
    "Scanning a cheque crashes my mobile app",
    "Cheque scanning crashes the mobile app",
    "Scanning a cheque in the app makes it crash",
]


def test_alike_unlinked_tickets_become_one_proposal_that_an_admin_accepts(
    stack: LocalStack,
) -> None:
    ids = seed_problems(stack)
    orgs = [stack.zendesk.create_organization(f"Org {i}")["id"] for i in range(4)]
    tickets = [customer_ticket(stack, text, orgs[i % 4]) for i, text in enumerate(NEW_CAUSE)]
    stack.drain()
    [proposal] = list_proposals(stack.rt)
    assert sorted(t.ticket_id for t in proposal.tickets) == sorted(tickets)
    assert proposal.organizations == 4
    team = proposal.suggested_team
    assert team == "product"  # where agents routed the most alike tickets before
    accept(stack.rt, proposal.id, None, "Cheque scan crashes the mobile app", actor="api")
    stack.drain()
    with stack.rt.db.session() as s:
        problem = s.scalars(
            select(Problem).where(Problem.cause_key == f"proposal:{proposal.id}")
        ).one()
        linked = s.scalars(select(Link).where(Link.problem_id == problem.id)).all()
    assert problem.team == team and problem.jira_key is not None
    project = stack.rt.config.teams[team].jira_project
    assert problem.jira_key.startswith(f"{project}-")
    issue = stack.jira.issue(problem.jira_key)
    assert issue["fields"]["summary"] == "Cheque scan crashes the mobile app"
    assert "cheque" not in (issue["fields"].get("description") or "").lower()  # no customer text
    assert sorted(link.ticket_id for link in linked) == sorted(tickets)
    assert {link.via for link in linked} == {LinkVia.PROPOSAL}
    for ticket in tickets:
        assert field_value(stack, ticket, "jira_issue") == problem.jira_key
    assert all(link.requester_id is not None for link in linked)
    assert list_proposals(stack.rt) == []
    # Resolved like any problem: each of the proposal's customers gets one reply.
    resolve(stack, problem.id, "fixed")
    stack.drain()
    assert [len(public_comments(stack, t)) for t in tickets] == [1] * len(tickets)
    assert ids  # the seeded problems stay as they were


def test_admins_accept_from_the_command_line_and_rebuild_the_vectors(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import delete

    from connector.store.models import TicketVector
    from tests.install_stack import run_cli

    seed_problems(stack)
    orgs = [stack.zendesk.create_organization(f"Org {i}")["id"] for i in range(4)]
    tickets = [customer_ticket(stack, text, orgs[i % 4]) for i, text in enumerate(NEW_CAUSE)]
    stack.drain()
    [proposal] = list_proposals(stack.rt)
    listed = run_cli(stack, monkeypatch, "problems", "proposals")
    assert f"proposal {proposal.id}: 8 tickets from 4 organisations" in listed.output
    bad = run_cli(stack, monkeypatch, "problems", "accept", "999", "--summary", "x")
    assert bad.exit_code == 1 and "no proposal 999" in bad.output
    done = run_cli(
        stack,
        monkeypatch,
        "problems",
        "accept",
        str(proposal.id),
        "--team",
        "product",
        "--summary",
        "Cheque scan crashes the mobile app",
    )
    assert done.exit_code == 0, done.output
    assert "accepted: ENG-" in done.output and "in team product, 8 tickets linked" in done.output
    twice = run_cli(stack, monkeypatch, "problems", "dismiss", str(proposal.id))
    assert twice.exit_code == 1 and "proposal 1 is applied already" in twice.output
    stack.drain()
    with stack.rt.db.session() as s:
        assert len(s.scalars(select(Link).where(Link.via == LinkVia.PROPOSAL)).all()) == 8
        linked = len(s.scalars(select(Link.ticket_id)).all())
        s.execute(delete(TicketVector))  # e.g. a new text model: every vector is read again
    rebuilt = run_cli(stack, monkeypatch, "suggestions", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"rebuilt: {linked} ticket vectors" in rebuilt.output
    with stack.rt.db.session() as s:
        assert sorted(s.scalars(select(TicketVector.ticket_id))) == sorted(
            s.scalars(select(Link.ticket_id))
        )
    assert tickets
