"""Both sandboxes and the web app with nothing installed, and how a test looks at them and runs
the CLI against them (install and uninstall tests)."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.demo.stack import LocalStack
from tests.e2e.conftest import stop_checked

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def bare(tmp_path: Path, jira_deployment: str) -> Iterator[LocalStack]:
    """Both sandboxes and the web app, nothing installed; a config with a comment to keep."""
    config = (
        "# Our connector config: keep this comment\n"
        "teams:\n"
        "  billing: {jira_project: FIN, name: Finance}   # money\n"
        "  docs: {jira_project: DOC, name: Documentation}\n"
        "  product: {jira_project: ENG, issue_type: Bug, name: Engineering}\n"
    )
    stack = LocalStack(tmp_path, config_text=config, jira_deployment=jira_deployment)
    yield stack.start(install=False)
    stop_checked(stack)


def sandbox_state(stack: LocalStack) -> dict[str, Any]:
    """What an admin would see in both products' admin screens."""
    zd = stack.zendesk.state
    with zd.lock:
        zendesk = {
            "fields": copy.deepcopy(zd.ticket_fields),
            "webhooks": copy.deepcopy(zd.webhooks),
            "triggers": copy.deepcopy(zd.triggers),
        }
    with stack.jira.state.lock:
        hooks = {i: dataclasses.asdict(h) for i, h in stack.jira.state.webhooks.items()}
        jira_fields = [(cf.id, cf.name) for cf in stack.jira.state.custom_fields]
    return {**zendesk, "jira_webhooks": hooks, "jira_fields": jira_fields}


def writes(stack: LocalStack) -> int:
    """API calls that change something, on both sides (counters are `METHOD /family`)."""
    families = [*stack.zendesk.counters.items(), *stack.jira.counters.items()]
    return sum(n for family, n in families if family.split(" ")[0] in WRITE_METHODS)


def cli_env(stack: LocalStack) -> dict[str, str]:
    return {k: v for k, v in stack.process_env().items() if k.startswith("CONNECTOR_")}


def run_cli(
    stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    monkeypatch.chdir(stack.workdir)  # `.env` is read from and written to the working directory
    for name in list(os.environ):
        if name.startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    return CliRunner().invoke(
        cli, list(args), input=input, env=cli_env(stack) | (env or {}), catch_exceptions=False
    )
