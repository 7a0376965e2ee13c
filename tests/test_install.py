"""`connector install` / `uninstall` over both sandboxes: creates exactly what the connector
needs, records the ids, changes nothing when run again or with --dry-run, and removes only
what it created."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest
from dotenv import dotenv_values
from install_stack import cli_env, run_cli, sandbox_state, writes

from connector.config import load_config
from connector.demo.stack import LocalStack
from connector.fields import TICKET_FIELDS as FIELDS
from connector.fields import team_option
from connector.install.jira_setup import WEBHOOK_NAME as JIRA_HOOK
from connector.install.run import finish_uninstall, plan_install, plan_uninstall
from connector.install.zendesk_setup import TRIGGER_TITLE
from connector.install.zendesk_setup import WEBHOOK_NAME as ZENDESK_HOOK
from tests.e2e.conftest import both_jira

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
TEAMS = {"billing": "Finance", "docs": "Documentation", "product": "Engineering"}


def install(stack: LocalStack) -> Any:
    plan, _ = plan_install(stack.rt)
    stack.install()
    return plan


def custom_fields(stack: LocalStack) -> dict[str, dict[str, Any]]:
    return {
        f["title"]: f for f in stack.rt.zendesk.list_ticket_fields() if not f.get("system_field")
    }


@both_jira
def test_install_from_nothing_creates_everything_and_records_ids(bare: LocalStack) -> None:
    plan = install(bare)
    # 8 ticket fields, webhook, trigger, the sidebar app, Jira webhook, 4 impact fields; 3
    # project screens on Cloud (Data Center has no screen scheme API: a note says what to add)
    screens = 3 if bare.jira_deployment == "Cloud" else 0
    assert [s.action for s in plan.steps] == ["create"] * 16 + ["update"] * screens
    assert (bare.jira_deployment == "Cloud") != any("Data Center" in n for n in plan.notes)

    fields = custom_fields(bare)
    assert {spec.title for spec in FIELDS} <= set(fields)
    team = fields["Owning team"]
    assert team["type"] == "tagger"
    assert {o["value"]: o["name"] for o in team["custom_field_options"]} == {
        team_option(key): name for key, name in TEAMS.items()
    }  # `zdjira_team_billing`: a bare `billing` could be one of the account's own tags
    assert {fields[s.title]["type"] for s in FIELDS} == {"tagger", "text", "date", "textarea"}

    public = str(bare.rt.settings.public_url).rstrip("/")
    [hook] = bare.rt.zendesk.list_webhooks()
    assert (hook["name"], hook["endpoint"], hook["status"]) == (
        ZENDESK_HOOK,
        f"{public}/webhooks/zendesk",
        "active",
    )
    [trigger] = bare.rt.zendesk.list_triggers()
    assert trigger["title"] == TRIGGER_TITLE and trigger["active"]
    assert trigger["actions"][0]["value"][0] == hook["id"]

    [jira_hook] = bare.rt.jira.list_webhooks()
    assert jira_hook["name"] == JIRA_HOOK and jira_hook["enabled"]
    assert jira_hook["url"] == f"{public}/webhooks/jira"
    assert jira_hook["filters"]["issue-related-events-section"] == "project in (DOC, ENG, FIN)"
    [stored] = bare.jira.state.webhooks.values()
    assert (
        stored.secret and stored.secret == bare.rt.settings.jira_webhook_secret.get_secret_value()
    )  # type: ignore[union-attr]

    text = bare.config_path.read_text()
    assert "# Our connector config: keep this comment" in text and "# money" in text
    config = load_config(bare.config_path)
    assert config.zendesk.fields.owning_team == team["id"]
    assert all(getattr(config.zendesk.fields, s.key) == fields[s.title]["id"] for s in FIELDS)
    assert config.zendesk.webhook_id == hook["id"]
    assert config.zendesk.trigger_id == trigger["id"]
    assert config.jira.webhook_id == str(stored.id)
    # The install id names this installation's marker labels in Jira (the sandbox's host).
    assert config.install_id == "127-0-0-1"


@both_jira
def test_a_second_install_changes_nothing(bare: LocalStack) -> None:
    install(bare)
    before, writes_before = sandbox_state(bare), writes(bare)
    config_before = bare.config_path.read_text()

    plan = install(bare)

    assert plan.changes == [], [(s.kind, s.name, s.action, s.detail) for s in plan.changes]
    assert {s.action for s in plan.steps} == {"keep"}
    assert sandbox_state(bare) == before
    assert writes(bare) == writes_before  # reads only
    assert bare.config_path.read_text() == config_before


def test_dry_run_changes_nothing(bare: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    before, writes_before = sandbox_state(bare), writes(bare)
    config_before = bare.config_path.read_text()
    result = run_cli(bare, monkeypatch, "install", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "create" in result.output
    assert sandbox_state(bare) == before
    assert writes(bare) == writes_before
    assert bare.config_path.read_text() == config_before


def add_unrelated(stack: LocalStack) -> None:
    """What an admin already has: it must survive install and uninstall."""
    zendesk = stack.rt.zendesk
    zendesk.create_ticket_field({"type": "text", "title": "Internal reference"})
    # Same title as one of ours, other type: the admin's own, never adopted.
    zendesk.create_ticket_field({"type": "integer", "title": "Jira status"})
    other = zendesk.create_webhook(
        {
            "name": "Slack relay",
            "endpoint": "https://hooks.example.com/slack",
            "http_method": "POST",
            "request_format": "json",
            "status": "active",
            "subscriptions": ["conditional_ticket_events"],
        }
    )
    zendesk.create_trigger(
        {
            "title": "Tell Slack about urgent tickets",
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
            "actions": [{"field": "notification_webhook", "value": [other["id"], "{}"]}],
        }
    )
    stack.rt.jira.create_webhook(
        {
            "name": "Release bot",
            "url": "https://bots.example.com/jira",
            "events": ["jira:issue_updated"],
        }
    )


@both_jira
def test_uninstall_restores_the_sandboxes_and_removes_nothing_else(bare: LocalStack) -> None:
    add_unrelated(bare)
    before = sandbox_state(bare)
    install(bare)
    assert sandbox_state(bare) != before
    titles = [f["title"] for f in bare.rt.zendesk.list_ticket_fields()]
    assert titles.count("Jira status") == 2  # ours next to the admin's

    plan = plan_uninstall(bare.rt, delete_fields=True)
    assert {s.action for s in plan.steps} == {"delete"} and len(plan.steps) == 16
    plan.apply()
    finish_uninstall(bare.rt, deleted=True)

    assert sandbox_state(bare) == before
    config = load_config(bare.config_path)
    assert config.zendesk.webhook_id is None and config.jira.webhook_id is None
    assert all(getattr(config.zendesk.fields, s.key) is None for s in FIELDS)
    assert "# Our connector config: keep this comment" in bare.config_path.read_text()


def test_install_repairs_drift(bare: LocalStack) -> None:
    install(bare)
    hook_id = bare.rt.config.jira.webhook_id
    bare.rt.jira.update_webhook(str(hook_id), {"enabled": False})  # someone paused it
    zd_hook = bare.rt.config.zendesk.webhook_id
    bare.rt.zendesk.update_webhook(str(zd_hook), {"status": "inactive"})

    plan = install(bare)

    assert sorted((s.side, s.kind) for s in plan.changes) == [
        ("jira", "webhook"),
        ("zendesk", "webhook"),
    ]
    [jira_hook] = bare.rt.jira.list_webhooks()
    assert jira_hook["enabled"] and jira_hook["url"].endswith("/webhooks/jira")
    [hook] = bare.rt.zendesk.list_webhooks()
    assert hook["status"] == "active"
    assert install(bare).changes == []


def test_cli_install_write_env_then_again_then_uninstall(
    bare: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_unrelated(bare)
    before = sandbox_state(bare)

    first = run_cli(bare, monkeypatch, "install", "--write-env")
    assert first.exit_code == 0, first.output
    assert "install done: 19 change(s)" in first.output
    assert "webhook secrets written to .env" in first.output
    env = dotenv_values(bare.workdir / ".env")
    hook_id = load_config(bare.config_path).zendesk.webhook_id
    assert env["CONNECTOR_ZENDESK_WEBHOOK_SECRET"] == bare.zendesk.state.webhook_secrets[hook_id]
    [jira_hook] = [h for h in bare.jira.state.webhooks.values() if h.name == JIRA_HOOK]
    assert env["CONNECTOR_JIRA_WEBHOOK_SECRET"] == jira_hook.secret
    for secret in env.values():  # shown nowhere once written to .env
        assert secret and secret not in first.output

    writes_before, state_before = writes(bare), sandbox_state(bare)
    config_before = bare.config_path.read_bytes()
    second = run_cli(bare, monkeypatch, "install")  # reads the secrets back from .env
    assert second.exit_code == 0, second.output
    assert "already installed: no change" in second.output
    assert "config unchanged" in second.output and "ids written" not in second.output
    assert bare.config_path.read_bytes() == config_before
    assert writes(bare) == writes_before and sandbox_state(bare) == state_before

    gone = run_cli(bare, monkeypatch, "uninstall", "--delete-fields", "--yes")
    assert gone.exit_code == 0, gone.output
    assert "uninstall done: 16 removed" in gone.output
    assert "Stop `connector serve`" in gone.output
    assert sandbox_state(bare) == before


def test_cli_install_without_write_env_prints_the_secrets_to_set(
    bare: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(bare, monkeypatch, "install")
    assert result.exit_code == 0, result.output
    assert "CONNECTOR_ZENDESK_WEBHOOK_SECRET=" in result.output
    assert "CONNECTOR_JIRA_WEBHOOK_SECRET=" in result.output
    assert not (bare.workdir / ".env").exists()


def test_cli_install_without_public_url_exits_2(
    bare: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env |= {k: v for k, v in cli_env(bare).items() if k != "CONNECTOR_PUBLIC_URL"}
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "install"],
        cwd=bare.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "CONNECTOR_PUBLIC_URL" in proc.stderr
    assert bare.rt.zendesk.list_webhooks() == []


LONG_PUBLIC_URL = "https://support-integrations.example-company.com/connectors/zendesk-jira"


def test_dry_run_reads_at_80_columns_with_every_url_whole(
    bare: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"CONNECTOR_PUBLIC_URL": LONG_PUBLIC_URL, "COLUMNS": "80"}
    result = run_cli(bare, monkeypatch, "install", "--dry-run", env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for url in (f"{LONG_PUBLIC_URL}/webhooks/zendesk", f"{LONG_PUBLIC_URL}/webhooks/jira"):
        assert any(url in line for line in lines), result.output
    for line in lines:  # longer only where one word (a URL) cannot be cut
        assert len(line) <= 80 or " " not in line.strip(), line
        assert line == line.rstrip(), line
    for spec in FIELDS:
        assert any(spec.title in line and "create" in line for line in lines), spec.title
    assert "project in (DOC, ENG, FIN)" in result.output


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("side", ["ZENDESK", "JIRA"])
def test_an_unreachable_site_names_the_url_and_the_setting(bare: LocalStack, side: str) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env |= cli_env(bare) | {f"CONNECTOR_{side}_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "install", "--dry-run"],
        cwd=bare.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert f"cannot reach {side.title()} at {url}" in line
    assert f"check CONNECTOR_{side}_URL" in line


def test_refused_credentials_name_the_settings_to_check(bare: LocalStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env |= cli_env(bare) | {"CONNECTOR_ZENDESK_API_TOKEN": "revoked"}
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "install", "--dry-run"],
        cwd=bare.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert f"Zendesk at {bare.zendesk.url.rstrip('/')} refused the credentials (HTTP 401)" in line
    assert "check CONNECTOR_ZENDESK_EMAIL and CONNECTOR_ZENDESK_API_TOKEN" in line
    assert "revoked" not in proc.stderr


def test_a_renamed_team_renames_its_option(bare: LocalStack) -> None:
    install(bare)
    config = bare.config_path.read_text()
    bare.config_path.write_text(config.replace("name: Finance}", "name: Billing and invoices}"))
    bare.rt.config = load_config(bare.config_path)

    plan = install(bare)

    assert [(s.name, s.action) for s in plan.changes] == [("Owning team", "update")]
    team = custom_fields(bare)["Owning team"]
    names = {o["value"]: o["name"] for o in team["custom_field_options"]}
    assert names[team_option("billing")] == "Billing and invoices"
    assert len(names) == len(TEAMS)


def test_install_creates_the_impact_fields_and_puts_them_on_the_team_screens(
    bare: LocalStack,
) -> None:
    install(bare)
    config = load_config(bare.config_path)
    ids = config.jira.impact_fields
    by_id = {f["id"]: f for f in bare.rt.jira.list_fields()}
    assert by_id[ids.open_tickets]["name"] == "Open tickets"
    assert by_id[ids.tickets]["schema"]["type"] == "number"
    assert by_id[ids.last_report]["schema"]["type"] == "datetime"
    assert ids.value is None  # no organization value field configured
    state = bare.jira.state
    for key in ("FIN", "DOC", "ENG"):
        for operation in ("edit", "view"):
            on = state.screen_for(key, "10002", operation).fields()
            assert {ids.tickets, ids.open_tickets, ids.organizations, ids.last_report} <= on
    assert "open_tickets: " + str(ids.open_tickets) in bare.config_path.read_text()

    before = writes(bare)
    again, _ = plan_install(bare.rt)
    assert not again.changes
    bare.install()
    assert writes(bare) == before


def test_install_adopts_fields_by_name(bare: LocalStack) -> None:
    made = bare.rt.jira.create_field("Open tickets", CF + "float", CF + "exactnumber")
    install(bare)
    assert load_config(bare.config_path).jira.impact_fields.open_tickets == made["id"]
    assert [f["name"] for f in bare.rt.jira.list_fields()].count("Open tickets") == 1


def test_a_shared_screen_changes_only_when_the_admin_agrees(tmp_path: Any) -> None:
    config = "teams:\n  product: {jira_project: ENG, issue_type: Bug, name: Engineering}\n"
    stack = LocalStack(tmp_path, config_text=config).start(install=False)
    try:
        state = stack.jira.state
        if "OPS" not in state.projects:
            state._add_project("OPS", len(state.projects))
        state.share_screens(["ENG", "OPS"])
        asked: list[list[str]] = []
        plan, _ = plan_install(stack.rt, lambda screen, others: asked.append(others) is not None)
        plan.apply()
        assert asked == [[state.projects["OPS"].id]]
        assert not any(s.kind == "screen" and s.changes for s in plan.steps)
        assert any("--edit-shared-screens" in note for note in plan.notes)
        plan, installed = plan_install(stack.rt, lambda screen, others: True)
        plan.apply()
        on = state.screen_for("OPS", "10001", "edit").fields()
        assert installed.impact_fields["open_tickets"] in on
    finally:
        stack.stop()
