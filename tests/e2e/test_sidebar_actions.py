"""The sidebar's actions applied by the worker, over HTTP against the sandboxes: the ticket's
fields and the Jira issue follow, the timeline names the agent, and a restricted agent who
cannot see a ticket changes nothing. (Zendesk's signed first request is covered by
tests/test_sidebar_web.py and, in a browser, by tests/test_sidebar_browser.py.)"""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.ops.timeline import actor_name
from connector.store import names
from connector.store import sidebar as app_rows
from connector.store.models import AuditEntry, Problem, utcnow
from connector.web.sidebar import _enqueue  # how the web tier queues an action
from tests.e2e.test_linking import field_value, links

SESSION = __import__("datetime").timedelta(minutes=30)


class Agent:
    def __init__(self, stack: LocalStack, user_id: int) -> None:
        self.stack, self.url = stack, str(stack.rt.settings.public_url).rstrip("/")
        token = app_rows.open_session(stack.rt.db, user_id, utcnow(), SESSION)
        self.headers = {"Authorization": f"Bearer {token}"}

    def view(self, ticket_id: int) -> tuple[int, Any]:
        for _ in range(10):  # each drain runs the queued access check
            answer = requests.get(
                f"{self.url}/app/api/tickets/{ticket_id}", headers=self.headers, timeout=10
            )
            if answer.status_code != 202:
                return answer.status_code, answer.json()
            self.stack.drain()  # the worker checks access with Zendesk
        raise AssertionError("access never checked")

    def act(self, ticket_id: int, **body: Any) -> dict[str, Any]:
        answer = requests.post(
            f"{self.url}/app/api/tickets/{ticket_id}/actions",
            json=body,
            headers=self.headers,
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        action_id = answer.json()["action_id"]
        self.stack.drain()
        state = requests.get(
            f"{self.url}/app/api/actions/{action_id}", headers=self.headers, timeout=10
        )
        return dict(state.json())


def ticket(stack: LocalStack, subject: str, **fields: Any) -> int:
    return int(
        stack.zendesk.agent_create_ticket(subject=subject, comment={"body": "Help"}, **fields)["id"]
    )


def problem_id(stack: LocalStack, key: str) -> int:
    with stack.rt.db.session() as s:
        return int(s.scalars(select(Problem.id).where(Problem.jira_key == key)).one())


def test_create_link_move_and_unlink_through_the_app(stack: LocalStack) -> None:
    alex = Agent(stack, stack.zendesk.agent_user_id)
    first, second, third = (ticket(stack, s) for s in ("Charged twice", "Invoice wrong", "Guide"))
    stack.drain()
    assert alex.view(first)[0] == 200

    created = alex.act(first, kind="create", team="billing")
    assert created["state"] == "done", created
    key = links(stack)[first][0]
    assert key is not None and key.startswith("FIN-")
    assert created["message"] == f"Created {key} and linked this ticket."
    assert field_value(stack, first, "jira_issue") == key
    assert stack.jira.issue(key)["fields"]["summary"] == "Charged twice"

    linked = alex.act(second, kind="link", problem_id=problem_id(stack, key))
    assert linked == {"id": linked["id"], "state": "done", "message": f"Linked to {key}."}
    assert field_value(stack, second, "jira_issue") == key
    assert stack.jira.properties(key)["zendesk.impact"]["tickets"] == 2
    status, view = alex.view(second)
    assert status == 200 and view["linked"]["problem"]["key"] == key
    assert view["linked"]["linked_by"] == "Alex Agent"

    docs = alex.act(third, kind="create", team="docs")
    other = links(stack)[third][0]
    assert docs["state"] == "done" and other and other.startswith("DOC-")
    moved = alex.act(second, kind="move", problem_id=problem_id(stack, other))
    assert moved["message"] == f"Moved to {other}."
    assert field_value(stack, second, "jira_issue") == other
    assert stack.jira.properties(key)["zendesk.impact"]["tickets"] == 1

    unlinked = alex.act(second, kind="unlink")
    assert unlinked["message"] == f"Unlinked from {other}."
    assert second not in links(stack) and field_value(stack, second, "jira_issue") is None

    with stack.rt.db.session() as s:
        actors = {
            a.actor for a in s.scalars(select(AuditEntry).where(AuditEntry.ticket_id == second))
        }
        known = names.lookup(s, [stack.zendesk.agent_user_id], [])
    assert {actor_name(a, known.users) for a in actors} == {"Alex Agent"}
    assert alex.view(99_999)[0] == 403  # no such ticket in Zendesk: nothing to show


def test_a_restricted_agent_sees_and_changes_nothing_of_a_ticket_not_theirs(
    stack: LocalStack,
) -> None:
    riley = Agent(stack, stack.zendesk.restricted_user_id)
    theirs = ticket(stack, "Assigned to Riley", assignee_id=stack.zendesk.restricted_user_id)
    hidden = ticket(stack, "Someone else's")
    stack.drain()
    assert riley.view(theirs)[0] == 200
    status, body = riley.view(hidden)
    assert status == 403 and "linked" not in body
    # Even an action that slipped past the web tier's stored answer is checked with Zendesk.
    action_id = app_rows.add_action(
        stack.rt.db, hidden, stack.zendesk.restricted_user_id, "create", None, "billing"
    )
    _enqueue(stack.rt, "app.action", hidden, {"action_id": action_id})
    stack.drain()
    with stack.rt.db.session() as s:
        row = app_rows.action(s, action_id)
        assert row is not None and row.state.value == "refused"
    assert hidden not in links(stack) and field_value(stack, hidden, "jira_issue") is None
    assert stack.jira.issue_keys() == []


def test_an_agent_restricted_to_groups_sees_the_tickets_of_their_groups(stack: LocalStack) -> None:
    riley_id = stack.zendesk.restricted_user_id
    stack.zendesk.set_ticket_restriction(riley_id, "groups")
    mine = stack.zendesk.create_group("Billing desk", [riley_id])["id"]
    other = stack.zendesk.create_group("Shipping desk", [stack.zendesk.agent_user_id])["id"]
    in_mine = ticket(stack, "Refund please", group_id=mine)
    in_other = ticket(stack, "Where is my parcel", group_id=other)
    stack.drain()
    riley = Agent(stack, riley_id)
    assert riley.view(in_mine)[0] == 200
    assert riley.view(in_other)[0] == 403


def test_a_ticket_a_rule_linked_is_unlinked_from_the_app_and_stays_unlinked(
    stack: LocalStack,
) -> None:
    alex = Agent(stack, stack.zendesk.agent_user_id)
    lost = ticket(stack, "My parcel is lost", tags=["parcel_lost"])
    stack.drain()
    key = links(stack)[lost][0]
    assert key is not None and key.startswith("SHIP-")
    unlinked = alex.act(lost, kind="unlink")
    assert unlinked["state"] == "done", unlinked
    assert lost not in links(stack)
    stack.zendesk.agent_update_ticket(lost, comment={"body": "Any news?", "public": True})
    stack.drain()
    assert lost not in links(stack)  # the rule does not take it back
