"""The *Owning team* options are `zdjira_team_<key>` tags, not bare team keys that a real account
may use as tags of its own. The sync reads both, and `install` moves an older install's options
and its open tickets to the new values, over both sandboxes."""

from __future__ import annotations

from typing import Any

import pytest
from install_stack import run_cli
from sqlalchemy import select

from connector.config import load_config
from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.store.models import AuditEntry, Link
from connector.sync.signals import read_signals
from connector.zendesk.models import Ticket

TEAMS = {"billing": "Finance", "docs": "Documentation", "product": "Engineering"}


def test_the_sync_reads_old_and_new_option_values() -> None:
    config = load_config()
    config.zendesk.fields.owning_team = 1
    for value, team in (
        ("zdjira_team_billing", "billing"),
        ("billing", "billing"),  # written before the prefix, until install moves it
        ("zdjira_team_marketing", None),
        ("marketing", None),
        (None, None),
    ):
        ticket = Ticket(id=10, type="problem", custom_fields={1: value})
        assert read_signals(ticket, config).problem_team == team, value


def options(stack: LocalStack) -> dict[str, str]:
    field = stack.rt.zendesk.get_ticket_field(stack.fields.owning_team)
    return {o["value"]: o["name"] for o in field["custom_field_options"]}


def as_an_older_install_left_it(stack: LocalStack) -> None:
    """The Owning team field with the bare team keys as option values."""
    zendesk, fid = stack.rt.zendesk, stack.fields.owning_team
    new = zendesk.get_ticket_field(fid)["custom_field_options"]
    for key, name in TEAMS.items():
        zendesk.upsert_field_option(fid, name, key)
    for option in new:
        zendesk.delete_field_option(fid, option["id"])
    assert options(stack) == TEAMS


def team_of(stack: LocalStack, ticket_id: int) -> tuple[Any, list[str]]:
    ticket = stack.zendesk.ticket(ticket_id)
    [value] = [f["value"] for f in ticket["custom_fields"] if f["id"] == stack.fields.owning_team]
    return value, ticket["tags"]


def create(stack: LocalStack, team: str, **fields: Any) -> int:
    ticket = stack.zendesk.agent_create_ticket(
        subject=f"{team} trouble",
        comment={"body": "Something is wrong"},
        custom_fields=[{"id": stack.fields.owning_team, "value": team}],
        **fields,
    )
    return int(ticket["id"])


def test_install_moves_old_options_and_open_tickets_and_links_keep_working(
    bare: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = bare
    stack.install()
    assert options(stack) == {team_option(key): name for key, name in TEAMS.items()}
    as_an_older_install_left_it(stack)
    problem = create(stack, "billing", type="problem")
    question = create(stack, "docs")
    closed = create(stack, "billing")
    stack.zendesk.close_ticket(closed)
    stack.drain()
    [key] = stack.jira.issue_keys()  # the old value still names the team
    assert key.startswith("FIN-")

    plan = run_cli(stack, monkeypatch, "install", "--dry-run")
    print(plan.output)
    assert "billing -> zdjira_team_billing" in plan.output, plan.output
    assert "2 open ticket(s) move" in plan.output
    result = run_cli(stack, monkeypatch, "install")
    print(result.output)
    assert result.exit_code == 0, result.output

    assert options(stack) == {team_option(key): name for key, name in TEAMS.items()}
    value, tags = team_of(stack, problem)
    assert value == "zdjira_team_billing" and "zdjira_team_billing" in tags
    assert "billing" not in tags
    assert team_of(stack, question)[0] == "zdjira_team_docs"
    # Closed tickets refuse updates: as in Zendesk, the deleted option leaves the field blank.
    assert team_of(stack, closed) == (None, ["billing"])

    stack.drain()
    assert stack.jira.issue_keys() == [key]
    with stack.rt.db.session() as session:
        assert session.scalars(select(Link.ticket_id)).all() == [problem]
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "unlink" not in actions

    # A tag `billing` set for the account's own reasons no longer picks an owning team.
    tagged = stack.zendesk.agent_create_ticket(
        subject="Invoice question", comment={"body": "?"}, tags=["billing"]
    )
    assert team_of(stack, int(tagged["id"])) == (None, ["billing"])

    again = run_cli(stack, monkeypatch, "install")
    assert "already installed: no change" in again.output, again.output
