"""What the help texts and the README's Commands table promise an admin (issue 13, item 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def help_of(*path: str) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("command", ["preview", "approve", "status", "retry"])
def test_replies_say_what_problem_is(command: str) -> None:
    text = help_of("replies", command)
    assert "PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard" in text


@pytest.mark.parametrize(
    ("path", "promise"),
    [
        (("worker",), "--threads INTEGER Worker threads (default: CONNECTOR_WORKER_THREADS"),
        (("serve",), "--workers INTEGER Web (gunicorn) processes"),
        (("sandbox", "jira"), "--config FILE Create the Jira projects of this config file's"),
        (("demo",), "--workdir PATH Write the demo's database, queue and config here"),
        (("demo",), "small number is raised (10 gives 21)"),
        (("demo",), "--jira [cloud|datacenter] Which Jira the sandbox plays"),
        (("sandbox", "jira"), "--deployment [cloud|datacenter] Answer as Jira Cloud, or as Jira"),
        ((), "-v, --verbose Log at DEBUG, with each step of the database migrations"),
    ],
)
def test_options_name_what_they_do(path: tuple[str, ...], promise: str) -> None:
    assert promise in help_of(*path)


@pytest.mark.parametrize(
    "row",
    [
        "`connector demo [--tickets N] [--json] [--keep] [--workdir DIR] "
        "[--jira cloud\\|datacenter]`",
        "`connector serve [--host H] [--port P] [--workers N]`",
        "`sandbox jira` also takes `--deployment cloud\\|datacenter` (Jira Cloud, or Jira Data",
        "`--pat T` and `--config FILE`",
        "PROBLEM is the Jira key (`FIN-12`) or the problem's id on the dashboard",
        "`connector --verbose COMMAND`",
    ],
)
def test_the_readme_commands_table_documents_them(row: str) -> None:
    assert row in README
