"""Settings and config validation: bad input names the file, the key and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connector.config import embedded_defaults_text, load_config, parse_config
from connector.errors import ConfigError
from connector.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
GOOD_TEAMS = "teams:\n  billing: {jira_project: FIN}\n"


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "connector", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_defaults_match_the_documented_example() -> None:
    example = (REPO / "config" / "connector.example.yaml").read_text("utf-8")
    assert example == embedded_defaults_text()
    config = parse_config(example, "example")
    assert config.teams["billing"].jira_project == "FIN"
    assert config.outcomes["Won't Do"] == "wont_fix"
    assert config.replies.templates["wont_fix"] is None


def test_the_examples_in_the_example_comments_validate() -> None:
    """The commented examples (rules, priority steps, a template) use keys that exist."""
    example = (REPO / "config" / "connector.example.yaml").read_text("utf-8")
    data = yaml.safe_load(example)
    commented = [line.partition("#")[2].strip() for line in example.splitlines()]
    rules = [yaml.safe_load(c)[0] for c in commented if c.startswith("- {team:")]
    steps = [yaml.safe_load(c)[0] for c in commented if c.startswith("- {min_")]
    [template] = [yaml.safe_load(c) for c in commented if c.startswith("duplicate: {")]
    assert len(rules) == 3 and len(steps) == 2
    data["rules"] += rules
    data["priority"] += steps
    data["replies"]["templates"].update(template)
    config = parse_config(yaml.safe_dump(data), "example with its comments")
    assert config.rules[1].when.brand_id and config.rules[2].when.fields
    assert config.priority[2].min_organizations == 5
    assert config.replies.templates["duplicate"] is not None
    assert config.replies.templates["duplicate"].public is False


def test_missing_team_project_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "connector.yaml").write_text("teams:\n  billing: {issue_type: Task}\n")
    result = run_cli("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: config/connector.yaml: teams.billing.jira_project: field required"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "connector.db").exists()


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("teams: {}\n", "teams", "at least 1 item"),
        (
            "teams:\n  billing: {jira_project: fin}\n",
            "teams.billing.jira_project",
            "not a Jira project key",
        ),
        (
            GOOD_TEAMS + "rules:\n  - {team: nope, cause: X, when: {tags_any: [a]}}\n",
            "rules.0.team",
            "unknown team 'nope'",
        ),
        (
            GOOD_TEAMS + "rules:\n  - {team: billing, cause: X, when: {}}\n",
            "rules.0.when",
            "at least one condition",
        ),
        (
            GOOD_TEAMS + "rules:\n  - {team: billing, cause: X, when: {subject_pattern: '('}}\n",
            "rules.0.when.subject_pattern",
            "regular expression",
        ),
        (
            GOOD_TEAMS + "replies:\n  templates:\n    fixed: {body: 'Fixed ${solutoin}'}\n",
            "replies.templates.fixed.body",
            "unknown variable ${solutoin}",
        ),
        (
            GOOD_TEAMS + "replies: {closed_tickets: ignore}\n",
            "replies.closed_tickets",
            "'followup' or 'skip'",
        ),
        (GOOD_TEAMS + "priority:\n  - {priority: High}\n", "priority.0", "min_tickets"),
        (GOOD_TEAMS + "tems: {}\n", "tems", "extra inputs are not permitted"),
        (
            GOOD_TEAMS + "impact_debounce_seconds: soon\n",
            "impact_debounce_seconds",
            "valid integer",
        ),
    ],
)
def test_bad_config_names_the_key(text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config/connector.yaml")
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith(f"config/connector.yaml: {key}: ")


DEFAULTS = embedded_defaults_text()


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            DEFAULTS.replace("    fixed:\n      status", "    fixd:\n      status"),
            "replies.templates.fixd",
            "'fixd' is neither an outcome (the values under outcomes: duplicate, fixed, "
            "wont_fix) nor workaround",
        ),
        (
            DEFAULTS.replace("  Done: fixed\n", "  Done: fixd\n"),
            "outcomes.Done",
            "outcome 'fixd' has no template: add replies.templates.fixd "
            "(null = internal note only)",
        ),
        (
            DEFAULTS.replace("    duplicate: null\n", ""),
            "outcomes.Duplicate",
            "outcome 'duplicate' has no template",
        ),
        (
            GOOD_TEAMS + "replies: {send_workaround: true}\n",
            "replies.templates.workaround",
            "required when replies.send_workaround is true",
        ),
    ],
)
def test_templates_and_outcomes_must_match(text: str, key: str, problem: str) -> None:
    """A misspelt template or outcome would silently turn every customer's reply into an
    internal note: it stops the connector instead, naming the key."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config/connector.yaml")
    assert (info.value.key, problem in info.value.problem) == (key, True), info.value.problem


def test_a_null_template_is_an_explicit_internal_note() -> None:
    text = GOOD_TEAMS + "outcomes: {Done: fixed}\nreplies:\n  templates: {fixed: null}\n"
    assert parse_config(text, "c.yaml").replies.templates == {"fixed": None}
    workaround_only = GOOD_TEAMS + "replies:\n  templates: {workaround: null}\n"
    assert parse_config(workaround_only, "c.yaml").replies.templates == {"workaround": None}


def test_doctor_exits_2_on_a_misspelt_template(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "connector.yaml").write_text(DEFAULTS.replace("  Done: fixed\n", "  Done: fixd\n"))
    result = run_cli("doctor", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().startswith(
        "error: config/connector.yaml: outcomes.Done: outcome 'fixd' has no template"
    )
    assert list(tmp_path.iterdir()) == [config]


def test_invalid_yaml_and_non_mapping() -> None:
    with pytest.raises(ConfigError, match="not valid YAML at line 3"):
        parse_config("teams:\n  - [unclosed\n", "c.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config("- a\n", "c.yaml")


def test_explicit_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_default_path_falls_back_to_embedded_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert set(load_config().teams) == {"billing", "docs", "product", "shipping"}


def test_settings_from_environment_and_secrets_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_ZENDESK_API_TOKEN", "zd-very-secret")
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", "postgresql://u:pw@db/connector")
    settings = load_settings(_env_file=None)
    assert settings.zendesk_api_token is not None
    assert settings.zendesk_api_token.get_secret_value() == "zd-very-secret"
    assert "zd-very-secret" not in repr(settings)
    assert "zd-very-secret" not in str(settings.model_dump())


def test_settings_from_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CONNECTOR_ADMIN_TOKEN=from-dotenv\nCONNECTOR_LOG_JSON=true\n")
    settings = Settings()
    assert (
        settings.admin_token is not None
        and settings.admin_token.get_secret_value() == "from-dotenv"
    )
    assert settings.log_json is True


def test_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path, env={"CONNECTOR_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: environment: CONNECTOR_DATABASE_URL: must start with sqlite:// or postgresql://"
    )


@pytest.mark.parametrize("url", ["http://localhost:8081", "http://zendesk:8081"])
def test_a_zendesk_url_without_a_dotted_host_is_refused_at_start(url: str) -> None:
    from connector.errors import ConfigError
    from connector.settings import load_settings

    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, zendesk_url=url)
    assert "CONNECTOR_ZENDESK_URL" in str(info.value) and "127.0.0.1" in str(info.value)
    assert load_settings(_env_file=None, zendesk_url="http://127.0.0.1:8081").zendesk_url


def test_the_install_id_defaults_to_the_zendesk_subdomain() -> None:
    config = parse_config(embedded_defaults_text(), "defaults")
    assert config.install_id_for("https://acme.zendesk.com") == "acme"
    assert config.install_id_for("https://help.acme.example") == "help-acme-example"
    assert config.install_id_for(None) == "zendesk"
    named = parse_config(embedded_defaults_text() + "\ninstall_id: acme-eu\n", "config")
    assert named.install_id_for("https://acme.zendesk.com") == "acme-eu"
    with pytest.raises(ConfigError, match="install_id"):
        parse_config(embedded_defaults_text() + "\ninstall_id: Acme EU\n", "config")
