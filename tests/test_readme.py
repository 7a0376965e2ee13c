"""The README's quick start is what CI runs: the two stay the same."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_installs_and_tests_as_the_readme_says() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    test_command = (
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" && pytest -q -n 2'
    )
    assert test_command in readme
    for step in (
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        'pip install -q -e ".[dev]"',
        "pytest -q -n 2",
    ):
        assert step in ci, step
    assert "## Quick start" in readme
