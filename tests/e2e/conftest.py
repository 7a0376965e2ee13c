"""End-to-end fixtures: the whole stack (sandboxes, web app, worker) in one process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack

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


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[LocalStack]:
    s = LocalStack(
        tmp_path, database_url=database_url, config_text=config_with(impact_debounce_seconds="0")
    )
    s.start()
    yield s
    s.stop()
