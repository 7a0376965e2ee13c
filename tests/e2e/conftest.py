"""End-to-end fixtures: the whole stack (sandboxes, web app, worker) in one process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.config import embedded_defaults_text
from connector.sandbox.stack import LocalStack


def config_with(**overrides: str) -> str:
    text = embedded_defaults_text()
    for key, value in overrides.items():
        lines = [line for line in text.splitlines() if not line.startswith(f"{key}:")]
        text = "\n".join(lines) + f"\n{key}: {value}\n"
    return text


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[LocalStack]:
    s = LocalStack(
        tmp_path, database_url=database_url, config_text=config_with(impact_debounce_seconds="0")
    )
    s.start()
    yield s
    s.stop()
