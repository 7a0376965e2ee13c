"""Who may act on a ticket in the sidebar: Zendesk's visibility rules, from the agent's user
record and the ticket (checked by the worker with Zendesk before any read or action)."""

from __future__ import annotations

import pytest

from connector.sync.app_actions import may_see
from connector.zendesk.models import Ticket, User

AGENT = 361_000_000_002


def user(**fields: object) -> User:
    return User.model_validate({"id": AGENT, "name": "Alex", "role": "agent", **fields})


GROUP, OTHER_GROUP = 368_000_000_001, 368_000_000_002
TICKET = Ticket(id=5, assignee_id=AGENT, group_id=GROUP, organization_id=362_000_000_001)
OTHER = Ticket(id=6, assignee_id=1, group_id=OTHER_GROUP, organization_id=362_000_000_002)


@pytest.mark.parametrize(
    ("agent", "mine", "theirs"),
    [
        (user(), True, True),  # no restriction: every ticket
        (user(role="admin", ticket_restriction="assigned"), True, True),
        (user(ticket_restriction="assigned"), True, False),
        (user(ticket_restriction="organization", organization_id=362_000_000_001), True, False),
        (user(ticket_restriction="organization"), False, False),  # no organisation: none
        (user(ticket_restriction="groups"), True, False),  # assigned to them, no groups
        (user(ticket_restriction="secret-new-kind"), False, False),  # unknown: refused
        (user(role="end-user"), False, False),
        (user(active=False), False, False),
        (user(suspended=True), False, False),
    ],
)
def test_zendesk_visibility(agent: User, mine: bool, theirs: bool) -> None:
    assert may_see(agent, TICKET).allowed is mine
    assert may_see(agent, OTHER).allowed is theirs


def test_a_groups_restriction_sees_the_tickets_of_the_agents_groups() -> None:
    agent = user(ticket_restriction="groups")
    assert may_see(agent, OTHER, [OTHER_GROUP]).allowed
    assert not may_see(agent, OTHER, [GROUP]).allowed
    assert not may_see(agent, Ticket(id=7), [GROUP]).allowed  # in no group, not theirs


def test_the_reason_of_a_refusal_says_why() -> None:
    assert "not known" in may_see(user(ticket_restriction="secret-new-kind"), TICKET).reason
