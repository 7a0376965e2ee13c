"""Operations commands: `connector doctor` (registered on the main group with `add_command`)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from connector.errors import ConfigError

if TYPE_CHECKING:
    from connector.ops.doctor import Check


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(as_json: bool) -> None:
    """Check credentials, permissions, Jira projects, webhooks, database and queue.

    Changes nothing. Exit code 0 when no check fails, 1 otherwise, 2 for bad settings.
    """
    from connector.bootstrap import WorkerContext
    from connector.logs import configure_logging
    from connector.ops.doctor import passed, run_doctor

    try:
        runtime = WorkerContext()
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    configure_logging(runtime.settings.log_level, runtime.settings.log_json)
    try:
        checks = run_doctor(runtime)
    finally:
        runtime.close()
    if as_json:
        click.echo(json.dumps([c.to_json() for c in checks], indent=2))
    else:
        _print(checks)
    failed = [c for c in checks if c.failed]
    if not as_json:
        summary = f"{len(failed)} check(s) failed" if failed else "all checks passed"
        click.echo(summary, err=bool(failed))
    sys.exit(0 if passed(checks) else 1)


def _print(checks: list[Check]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    styles = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
    table = Table(title="connector doctor")
    for column in ("check", "status", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        status = Text(check.status, style=styles.get(check.status, ""))
        table.add_row(Text(check.name), status, Text(check.detail), Text(check.fix))
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the fixes into 80 columns
        console = Console(width=200)
    console.print(table)
