"""`connector doctor` over the sandboxes: passes on a good setup, and names the fix for what
an admin typically gets wrong."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from connector.bootstrap import WorkerContext as Runtime
from connector.cli_ops import doctor
from connector.config import embedded_defaults_text, load_config
from connector.demo.stack import EMAIL, TOKEN, LocalStack
from connector.fields import team_option
from connector.ops.doctor import FAIL, OK, WARN, Check, passed, run_doctor
from connector.store.migrate import upgrade
from connector.store.models import EventState, InboundEvent, Reply, ReplyState


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    s = LocalStack(tmp_path, settings={"admin_token": "doctor-admin-token"}).start()
    yield s
    s.stop()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def failures(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks if c.status == FAIL}


def test_a_good_setup_passes(stack: LocalStack) -> None:
    team = [{"id": stack.fields.owning_team, "value": team_option("billing")}]
    stack.zendesk.agent_create_ticket(
        subject="Double charge", comment={"body": "hi"}, type="problem", custom_fields=team
    )
    stack.drain()
    [key] = stack.jira.issue_keys()
    stack.jira.human_comment(key, "Looking into it")  # Jira delivers a webhook for it
    stack.drain()
    checks = run_doctor(stack.rt)
    assert passed(checks), [c for c in checks if c.status != OK]
    assert all(c.status == OK for c in checks), [c for c in checks if c.status != OK]
    names = by_name(checks)
    assert "admin" in names["zendesk credentials"].detail
    for team in ("FIN", "DOC", "ENG", "SHIP"):
        assert any(n.startswith(f"jira project {team} ") for n in names)
    assert names["jira webhook"].detail.endswith("(project in (DOC, ENG, FIN, SHIP))")
    assert "ago" in names["last zendesk delivery"].detail
    # The defaults suggest: the model loads offline and learned from the problem ticket.
    assert names["suggestions"].detail.startswith(
        "text model loads offline; learns from 1 linked ticket of 1 open problem"
    )
    assert names["proposed problems"].detail == "none waiting"


def test_a_text_model_that_does_not_load_fails_with_the_fix(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.textmodel import encoder

    def broken(self: object, texts: object) -> None:
        raise FileNotFoundError("l2_supercat_256.safetensors")

    monkeypatch.setattr(encoder.WordLlamaEncoder, "encode", broken)
    [check] = [c for c in run_doctor(stack.rt) if c.name == "suggestions"]
    assert check.status == FAIL and "safetensors" in check.detail
    assert "pip install --force-reinstall wordllama" in check.fix


def test_a_fresh_install_passes_with_warnings_only(stack: LocalStack) -> None:
    checks = run_doctor(stack.rt)
    assert passed(checks)
    warned = {c.name for c in checks if c.status != OK}
    assert warned == {"last zendesk delivery", "last jira delivery"}


def test_data_center_with_a_pat_passes_and_names_the_deployment(tmp_path: Path) -> None:
    settings = {"admin_token": "doctor-admin-token"}
    stack = LocalStack(tmp_path, settings=settings, jira_deployment="DataCenter").start()
    try:
        checks = run_doctor(stack.rt)
        assert passed(checks), [c for c in checks if c.status != OK]
        names = by_name(checks)
        assert names["jira deployment"].status == OK
        assert names["jira deployment"].detail == (
            "Jira DataCenter 10.3.12, signed in with a personal access token; "
            "it signs webhook deliveries"
        )
        assert names["jira permissions"].status == OK
        warned = {c.name for c in checks if c.status != OK}
        assert warned == {"last zendesk delivery", "last jira delivery", "jira impact screens"}

        # The engineer's own PAT: works in projects, but cannot manage webhooks or fields.
        engineer = run_doctor(with_settings(stack, jira_pat=SecretStr("engineer-sandbox")))
        permissions = by_name(engineer)["jira permissions"]
        assert permissions.status == WARN and "lacks Administer Jira" in permissions.detail
        assert "403" in failures(engineer)["jira webhook"].detail

        # Jira before Data Center 10 sends webhooks unsigned: with the secret install set, every
        # delivery is refused (a failure); without it, they are accepted (a warning).
        with stack.jira.state.lock:
            stack.jira.state.deployment_type = "Server"
        key = stack.jira.human_create("FIN", "Unsigned")
        stack.jira.human_transition(key, "In Progress")
        assert stack.jira.wait_for_deliveries(10)
        assert {d["status"] for d in stack.jira.deliveries[-1:]} == {401}
        old = by_name(run_doctor(with_settings(stack)))["jira deployment"]
        assert (
            old.status == FAIL
            and "9.12.15" in old.detail
            and "every delivery gets 401" in (old.detail)
        )
        assert "unset CONNECTOR_JIRA_WEBHOOK_SECRET" in old.fix
        unset = by_name(run_doctor(with_settings(stack, jira_webhook_secret=None)))
        assert unset["jira deployment"].status == WARN
        assert "firewall" in unset["jira deployment"].fix
    finally:
        stack.stop()


def with_settings(stack: LocalStack, **changes: object) -> Runtime:
    settings = stack.rt.settings.model_copy(update=changes)
    return Runtime(settings, load_config(stack.config_path))


def test_configured_jira_fields_must_exist(stack: LocalStack) -> None:
    """A wrong field id stops nothing at run time: the solution is just never found."""
    runtime = with_settings(stack)
    runtime.config.jira.solution_field = "customfield_99999"
    runtime.config.jira.impact_fields.tickets = "Linked tickets"
    failed = failures(run_doctor(runtime))
    assert not passed(run_doctor(runtime))
    fields = failed["jira fields"]
    assert "jira.solution_field: customfield_99999 does not exist in Jira" in fields.detail
    assert (
        "jira.impact_fields.tickets: 'Linked tickets' is the field's name, its id is "
        "customfield_10052" in fields.detail
    )
    assert fields.fix.startswith("set jira.solution_field in ")
    assert set(failed) == {"jira fields"}

    runtime.config.jira.solution_field = "customfield_10050"
    runtime.config.jira.impact_fields.tickets = "customfield_10052"
    fields = by_name(run_doctor(runtime))["jira fields"]
    assert fields.status == OK and "jira.solution_field customfield_10050" in fields.detail


def test_impact_fields_off_a_screen_or_not_on_screens_name_what_to_add(stack: LocalStack) -> None:
    """The impact write leaves out a field off the edit screen: doctor names screen and field."""
    good = by_name(run_doctor(stack.rt))["jira impact screens"]
    assert good.status == OK and "DOC, ENG, FIN, SHIP" in good.detail
    state, open_id = stack.jira.state, stack.rt.config.jira.impact_fields.open_tickets
    with state.lock:
        screen = state.screen_for("FIN", "10001", "edit")
        for _name, fields in screen.tabs.values():
            if open_id in fields:
                fields.remove(open_id)
        state.projects["SHIP"].team_managed = True
    lines = [c for c in run_doctor(stack.rt) if c.name == "jira impact screens"]
    assert [c.status for c in lines] == [WARN, WARN] and passed(lines)
    assert lines[0].detail == "SHIP is a team-managed project"
    assert "Zendesk tickets, Open tickets, Organizations, Last customer report" in lines[0].fix
    assert "by hand (Project settings > Issue types)" in lines[0].fix
    assert lines[1].detail == (
        f"screen {screen.id} (FIN) lacks Open tickets: left out of the impact writes"
    )
    assert f"Screens > screen {screen.id}" in lines[1].fix

    with state.lock:
        state.deployment_type = "Server"
    [data_center] = [c for c in run_doctor(with_settings(stack)) if c.name == "jira impact screens"]
    assert data_center.status == WARN and "Jira Data Center: add Zendesk tickets" in data_center.fix


def test_the_organization_value_field_is_a_key_that_exists(stack: LocalStack) -> None:
    runtime = with_settings(stack)  # the sandbox has a decimal field "Customer value"
    runtime.config.zendesk.organization_value_field = "Customer value"
    check = failures(run_doctor(runtime))["zendesk organization value field"]
    assert "its key is customer_value" in check.detail
    runtime.config.zendesk.organization_value_field = "customer_value"
    check = by_name(run_doctor(runtime))["zendesk organization value field"]
    assert (check.status, check.detail) == (OK, "'customer_value' exists (decimal)")


def test_the_public_url_check_says_what_it_checked(stack: LocalStack) -> None:
    url = str(stack.rt.settings.public_url)
    check = by_name(run_doctor(stack.rt))["public URL"]
    assert check.status == OK and check.detail.startswith(f"{url} answers GET /healthz")

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{free.getsockname()[1]}/"
    check = by_name(run_doctor(with_settings(stack, public_url=nobody)))["public URL"]
    assert check.status == "warn"
    assert check.detail.startswith(f"set to {nobody}, but not reachable from here: GET ")
    assert "connector serve" in check.fix


def test_wrong_tokens_name_the_settings_to_fix(stack: LocalStack) -> None:
    runtime = with_settings(
        stack, zendesk_api_token=SecretStr("wrong"), jira_api_token=SecretStr("wrong")
    )
    failed = failures(run_doctor(runtime))
    zendesk = failed["zendesk credentials"]
    assert "refused the credentials (401)" in zendesk.detail
    assert "CONNECTOR_ZENDESK_API_TOKEN" in zendesk.fix
    assert "CONNECTOR_JIRA_API_TOKEN" in failed["jira credentials"].fix
    statuses = by_name(run_doctor(runtime))
    assert statuses["zendesk webhook"].status == "skip"  # not blamed on the webhook
    assert not passed(list(statuses.values()))


def test_a_team_whose_project_is_missing_in_jira(tmp_path: Path) -> None:
    config = embedded_defaults_text().replace(
        "teams:\n", "teams:\n  support_ops: {jira_project: OPS, name: Support operations}\n", 1
    )
    s = LocalStack(tmp_path, config_text=config).start()
    try:
        failed = failures(run_doctor(s.rt))
        check = failed["jira project OPS (team support_ops)"]
        assert "does not exist" in check.detail
        assert "create project OPS in Jira" in check.fix
        assert "teams.support_ops.jira_project" in check.fix
        assert set(failed) == {"jira project OPS (team support_ops)"}
    finally:
        s.stop()


def test_webhooks_pointing_elsewhere_or_paused(stack: LocalStack) -> None:
    public = str(stack.rt.settings.public_url).rstrip("/")
    stack.rt.zendesk.update_webhook(
        str(stack.rt.config.zendesk.webhook_id), {"endpoint": "https://old-host.example.com/hook"}
    )
    stack.rt.jira.update_webhook(str(stack.rt.config.jira.webhook_id), {"enabled": False})
    failed = failures(run_doctor(stack.rt))
    zendesk = failed["zendesk webhook"]
    assert "https://old-host.example.com/hook" in zendesk.detail
    assert zendesk.fix == f"run `connector install` to point it at {public}/webhooks/zendesk."
    assert "inactive" in failed["jira webhook"].detail
    assert "connector install" in failed["jira webhook"].fix


def test_wrong_webhook_secret_config_ids_and_store_failures(stack: LocalStack) -> None:
    runtime = with_settings(stack, zendesk_webhook_secret=SecretStr("not-the-secret"))
    runtime.config.zendesk.fields.solution = None
    with runtime.db.session() as s:
        s.add(
            InboundEvent(
                source="jira",
                delivery_id="x",
                event_type="jira:issue_updated",
                state=EventState.FAILED,
                error="KeyError: 'fields'",
            )
        )
        s.add(
            Reply(
                problem_id=_problem(runtime),
                ticket_id=5,
                outcome="fixed",
                state=ReplyState.FAILED,
                error="422",
            )
        )
    failed = failures(run_doctor(runtime))
    assert "does not match" in failed["zendesk webhook secret"].detail
    assert "--write-env" in failed["zendesk webhook secret"].fix
    assert "solution" in failed["zendesk fields"].detail
    assert "connector install" in failed["zendesk fields"].fix
    assert "KeyError" in failed["inbound events"].detail
    assert "connector events retry --all" in failed["inbound events"].fix
    assert "1 parked as failed" in failed["replies"].detail
    assert "connector replies retry PROBLEM" in failed["replies"].fix


def _problem(runtime: Runtime) -> int:
    from connector.store.models import Problem

    with runtime.db.session() as s:
        problem = Problem(cause_key="t", team="billing", summary="x")
        s.add(problem)
        s.flush()
        return problem.id


def test_an_outdated_schema_says_db_upgrade(stack: LocalStack, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    runtime = with_settings(stack, database_url=url)
    [database] = [c for c in run_doctor(runtime) if c.name == "database"]
    assert database.status == FAIL and database.fix == "run `connector db upgrade`"
    assert "schema is behind the code (at 0005, the code needs " in database.detail


NOT_CREATED = "run `connector db upgrade` (serve, web and worker also migrate on start)"


def test_a_fresh_install_says_not_created_yet_and_creates_no_file(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doctor promises to change nothing: it must not create the SQLite database or queue."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    env = doctor_env(
        stack, CONNECTOR_DATABASE_URL="sqlite:///connector.db", CONNECTOR_QUEUE_PATH="queue.db"
    )
    result = CliRunner().invoke(doctor, ["--json"], env=env)
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    database = checks["database"]
    assert (database["status"], database["fix"]) == ("warn", NOT_CREATED), database
    assert database["detail"] == "not created yet (connector.db does not exist)"
    assert (
        checks["queue"]["status"] == "ok" and "queue.db is created by" in checks["queue"]["detail"]
    )
    assert "replies" not in checks  # nothing to read in a database that is not there
    assert result.exit_code == 0, result.output
    assert list(fresh.iterdir()) == []


def test_an_empty_postgresql_database_is_not_created_yet(
    stack: LocalStack, postgres_url: str
) -> None:
    [database] = [
        c
        for c in run_doctor(with_settings(stack, database_url=postgres_url))
        if c.name == "database"
    ]
    assert (database.status, database.fix) == ("warn", NOT_CREATED)
    assert database.detail == "not created yet (the database has no schema)"


def doctor_env(stack: LocalStack, **overrides: str) -> dict[str, str]:
    s = stack.rt.settings
    env = {
        "CONNECTOR_ZENDESK_URL": str(s.zendesk_url),
        "CONNECTOR_ZENDESK_EMAIL": EMAIL,
        "CONNECTOR_ZENDESK_API_TOKEN": TOKEN,
        "CONNECTOR_ZENDESK_WEBHOOK_SECRET": s.zendesk_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
        "CONNECTOR_JIRA_URL": str(s.jira_url),
        "CONNECTOR_JIRA_EMAIL": EMAIL,
        "CONNECTOR_JIRA_API_TOKEN": TOKEN,
        "CONNECTOR_JIRA_WEBHOOK_SECRET": s.jira_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
        "CONNECTOR_PUBLIC_URL": str(s.public_url),
        "CONNECTOR_CONFIG": str(stack.config_path),
        "CONNECTOR_DATABASE_URL": s.database_url,
        "CONNECTOR_QUEUE_PATH": s.queue_path,
        "CONNECTOR_ADMIN_TOKEN": "x" * 32,
    }
    return {**env, **overrides}


def test_cli_exit_codes_and_table(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(stack.workdir)
    runner = CliRunner()
    good = runner.invoke(doctor, [], env=doctor_env(stack))
    assert good.exit_code == 0, good.output
    assert "connector doctor" in good.output and "zendesk credentials" in good.output

    bad = runner.invoke(doctor, [], env=doctor_env(stack, CONNECTOR_JIRA_API_TOKEN="wrong"))
    assert bad.exit_code == 1
    assert "CONNECTOR_JIRA_API_TOKEN" in bad.output and "1 check(s) failed" in bad.output
    assert "wrong" not in bad.output.replace("wrong webhook", "")

    as_json = runner.invoke(doctor, ["--json"], env=doctor_env(stack))
    assert as_json.exit_code == 0
    assert {c["status"] for c in json.loads(as_json.stdout)} <= {"ok", "warn"}

    settings_error = runner.invoke(
        doctor, [], env=doctor_env(stack, CONNECTOR_DATABASE_URL="mysql://db/x")
    )
    assert settings_error.exit_code == 2
    assert "CONNECTOR_DATABASE_URL" in settings_error.output
