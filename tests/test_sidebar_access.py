"""Who may act on a ticket in the sidebar: Zendesk's visibility rules, from the agent's user
record and the ticket (checked by the worker with Zendesk before any read or action)."""

from __future__ import annotations

import pytest

from connector.sync.app_actions import may_see
from connector.zendesk.models import Ticket, User

AGENT = 361_000_000_002


def user(**fields: object) -> User:
    return User.model_validate({"id": AGENT, "name": "Alex", "role": "agent", **fields})


TICKET = Ticket(id=5, assignee_id=AGENT, organization_id=362_000_000_001)
OTHER = Ticket(id=6, assignee_id=1, organization_id=362_000_000_002)


@pytest.mark.parametrize(
    ("agent", "mine", "theirs"),
    [
        (user(), True, True),  # no restriction: every ticket
        (user(role="admin", ticket_restriction="assigned"), True, True),
        (user(ticket_restriction="assigned"), True, False),
        (user(ticket_restriction="organization", organization_id=362_000_000_001), True, False),
        (user(ticket_restriction="organization"), False, False),  # no organisation: none
        (user(ticket_restriction="groups"), False, False),  # not evaluated: refused
        (user(role="end-user"), False, False),
        (user(active=False), False, False),
        (user(suspended=True), False, False),
    ],
)
def test_zendesk_visibility(agent: User, mine: bool, theirs: bool) -> None:
    assert may_see(agent, TICKET).allowed is mine
    assert may_see(agent, OTHER).allowed is theirs


def test_the_reason_of_a_refusal_says_why() -> None:
    assert "groups" in may_see(user(ticket_restriction="groups"), TICKET).reason
