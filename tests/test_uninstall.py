"""`connector uninstall` over both sandboxes: by default it switches the webhooks and the trigger
off and keeps the ticket fields, so every ticket keeps its Jira key and solution; deleting the
fields takes `--delete-fields` and a yes."""

from __future__ import annotations

from typing import Any

import pytest
from install_stack import run_cli, sandbox_state

from connector.config import load_config
from connector.demo.stack import LocalStack
from connector.install.zendesk_setup import TRIGGER_TITLE
from tests.e2e.conftest import both_jira


def field_values(stack: LocalStack, ticket_id: int) -> dict[str, Any]:
    """What an agent sees in the connector's fields on the ticket, by field key."""
    ids = {getattr(stack.fields, key): key for key in ("jira_issue", "solution")}
    ticket = stack.zendesk.ticket(ticket_id)
    return {ids[f["id"]]: f["value"] for f in ticket["custom_fields"] if f["id"] in ids}


def linked_tickets(stack: LocalStack, count: int = 3) -> dict[int, dict[str, Any]]:
    """Tickets holding a Jira key and an agreed solution, as the connector leaves them."""
    shown = {}
    for n in range(1, count + 1):
        values = {"jira_issue": f"FIN-{n}", "solution": f"Use the web form ({n})"}
        ticket = stack.zendesk.agent_create_ticket(
            subject=f"Double charge {n}",
            comment={"body": "Charged twice"},
            custom_fields=[{"id": getattr(stack.fields, k), "value": v} for k, v in values.items()],
        )
        shown[int(ticket["id"])] = values
    return shown


def switched_on(stack: LocalStack) -> dict[str, bool]:
    [trigger] = [t for t in stack.rt.zendesk.list_triggers() if t["title"] == TRIGGER_TITLE]
    [hook] = stack.rt.zendesk.list_webhooks()
    [jira_hook] = stack.rt.jira.list_webhooks()
    return {
        "zendesk trigger": trigger["active"],
        "zendesk webhook": hook["status"] == "active",
        "jira webhook": jira_hook["enabled"],
    }


IMPACT_NAMES = {"Zendesk tickets", "Open tickets", "Organizations", "Last customer report"}


def impact_field_names(stack: LocalStack) -> set[str]:
    """The impact fields Jira's admin screens list (Jira settings > Issues > Custom fields)."""
    return {str(f["name"]) for f in stack.rt.jira.list_fields()} & IMPACT_NAMES


@pytest.fixture
def installed(bare: LocalStack) -> LocalStack:
    bare.install()
    return bare


@both_jira
def test_default_uninstall_switches_off_and_every_ticket_keeps_its_jira_key(
    installed: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = installed
    tickets = linked_tickets(stack)
    config_before = stack.config_path.read_bytes()
    fields_before = sandbox_state(stack)["fields"]
    jira_fields_before = sandbox_state(stack)["jira_fields"]
    assert impact_field_names(stack) == IMPACT_NAMES

    result = run_cli(stack, monkeypatch, "uninstall")

    assert result.exit_code == 0, result.output
    for ticket_id, values in tickets.items():
        assert field_values(stack, ticket_id) == values
    assert "3 switched off" in result.output and "--delete-fields" in result.output
    assert "the sidebar app was removed" in result.output
    assert sandbox_state(stack)["fields"] == fields_before
    assert sandbox_state(stack)["jira_fields"] == jira_fields_before
    assert "the Jira impact fields and their values stay" in result.output
    assert switched_on(stack) == dict.fromkeys(switched_on(stack), False)
    assert stack.config_path.read_bytes() == config_before  # install finds them by id again

    # Switched off for real: a ticket change no longer reaches the connector.
    stack.zendesk.wait_for_deliveries()
    deliveries = len(stack.zendesk.deliveries)
    stack.zendesk.agent_update_ticket(next(iter(tickets)), status="open")
    stack.zendesk.wait_for_deliveries()
    assert len(stack.zendesk.deliveries) == deliveries

    again = run_cli(stack, monkeypatch, "install")
    assert again.exit_code == 0, again.output
    assert (
        "config unchanged" in again.output and "install done: 4 change(s)"
    )  # 3 switched back on, the app again in again.output
    assert switched_on(stack) == dict.fromkeys(switched_on(stack), True)
    for ticket_id, values in tickets.items():
        assert field_values(stack, ticket_id) == values


def test_deleting_the_fields_asks_first_and_says_to_stop_serve(
    installed: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = installed
    tickets = linked_tickets(stack, count=1)
    before = sandbox_state(stack)

    preview = run_cli(stack, monkeypatch, "uninstall", "--delete-fields", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert preview.output.count("delete  ticket field") == 8 and "?" not in preview.output
    assert preview.output.count("delete  issue field") == 4

    refused = run_cli(stack, monkeypatch, "uninstall", "--delete-fields", input="n\n")

    assert refused.exit_code == 1
    assert "Stop `connector serve`" in refused.output
    assert (
        "Delete 8 ticket fields and their values on every ticket and 4 Jira impact fields and "
        "their values on every issue?"
    ) in refused.output
    assert sandbox_state(stack) == before
    [(ticket_id, values)] = tickets.items()
    assert field_values(stack, ticket_id) == values

    agreed = run_cli(stack, monkeypatch, "uninstall", "--delete-fields", input="y\n")

    assert agreed.exit_code == 0, agreed.output
    assert "uninstall done: 16 removed" in agreed.output
    assert field_values(stack, ticket_id) == {}
    assert impact_field_names(stack) == set()
    assert load_config(stack.config_path).jira.impact_fields.model_dump() == dict.fromkeys(
        ["tickets", "open_tickets", "organizations", "value", "last_report"]
    )
    assert stack.rt.zendesk.list_webhooks() == [] and stack.rt.jira.list_webhooks() == []
