"""The CLI's log on stderr: our own event lines, not alembic's chatter, unless `--verbose`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def connector(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    return subprocess.run(
        [sys.executable, "-m", "connector", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_print_no_alembic_lines_unless_verbose(tmp_path: Path) -> None:
    first = connector("db", "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "alembic" not in first.stderr
    # One line of our own says what the migration changed.
    [line] = first.stderr.splitlines()
    assert "db.upgraded from_revision=None to_revision=" in line
    assert first.stdout.startswith("database is at the latest schema")

    again = connector("reconcile", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "alembic" not in again.stderr and "db.upgraded" not in again.stderr

    (tmp_path / "connector.db").unlink()
    verbose = connector("--verbose", "db", "upgrade", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    assert "alembic.runtime.migration: Running upgrade  -> 0001" in verbose.stderr
