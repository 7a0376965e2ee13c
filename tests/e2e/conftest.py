"""End-to-end fixtures: the whole stack (sandboxes, web app, worker) in one process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack

JIRA_DEPLOYMENTS = ("Cloud", "DataCenter")
# Runs a test against a Jira Cloud sandbox and a Jira Data Center one (a personal access token,
# users by key, REST v2 and `/search` only). Chosen for the loop's main paths (link, mirror,
# reply) so that the Data Center runs add little time; every other test runs on Cloud.
both_jira = pytest.mark.parametrize("jira_deployment", JIRA_DEPLOYMENTS, indirect=True)

# Every outcome of the embedded defaults answered by an internal note only, no customer reply.
NO_REPLIES: dict[str, None] = {"fixed": None, "wont_fix": None, "duplicate": None}


def config_with(**overrides: Any) -> str:
    """The embedded defaults with top-level keys replaced (`replies=` merges one level).

    Suggestions are off unless a test turns them on (`suggestions={"enabled": True}`): their
    notes on unlinked tickets are not what the other tests count (tests/e2e/test_suggestions.py
    runs them with the defaults)."""
    data = yaml.safe_load(embedded_defaults_text())
    data["suggestions"]["enabled"] = False
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return str(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """End-to-end tests run on SQLite; the ones about concurrency and crashes, and a few
    flows (`both_databases`), also run on PostgreSQL. The store tests cover both everywhere."""
    return f"sqlite:///{tmp_path / 'connector.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def both_databases(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'both.db'}"
    return str(request.getfixturevalue("postgres_url"))


def stop_checked(stack: LocalStack) -> None:
    """Stop the stack; fail if the connector called an endpoint the site does not have (on Data
    Center: Cloud's, or the admin webhook resource Data Center 10 replaced). The sandbox
    answered it 404, as the real site does, and the test might still have passed."""
    stack.stop()
    assert stack.jira.absent_calls == [], "endpoints this Jira does not have were called"


@pytest.fixture
def stack(tmp_path: Path, database_url: str, jira_deployment: str) -> Iterator[LocalStack]:
    s = LocalStack(
        tmp_path,
        database_url=database_url,
        config_text=config_with(impact_debounce_seconds="0"),
        jira_deployment=jira_deployment,
    )
    s.start()
    yield s
    stop_checked(s)
