"""`connector install` and `connector uninstall` (registered on the main group with
`add_command`): print the plan, apply it, say what changed."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from connector.install.plan import Plan, Step

WIDTH = 80  # the plan reads in any terminal; a URL longer than a line stays whole on its own
NAME_WIDTH = 24  # names up to this long are padded into a column
SIDES = {"zendesk": "Zendesk", "jira": "Jira"}
COLOURS = {"keep": "bright_black", "create": "green", "update": "yellow", "delete": "red"}
STOP_SERVE = (
    "Stop `connector serve` (or every web and worker process) first: a running connector "
    "keeps writing to these fields."
)


def _runtime() -> Any:
    from connector.bootstrap import WorkerContext
    from connector.logs import configure_logging

    runtime = WorkerContext()
    configure_logging(runtime.settings.log_level, runtime.settings.log_json)
    return runtime


def print_plan(plan: Plan, title: str) -> None:
    click.echo(title)
    names = max((len(s.name) for s in plan.steps if len(s.name) <= NAME_WIDTH), default=0)
    for side, heading in SIDES.items():
        steps = [s for s in plan.steps if s.side == side]
        if steps:
            click.echo(heading)
        for step in steps:
            click.echo("\n".join(step_lines(step, names)))


def step_lines(step: Step, names: int = 0) -> list[str]:
    """`  create  ticket field  Owning team  tagger`, the detail on lines of its own when long."""
    name = f"{step.name:<{names}}"
    action = click.style(f"{step.action:<6}", fg=COLOURS.get(step.action))
    head = f"  {action}  {step.kind:<12}  {name}"
    plain_head = f"  {step.action:<6}  {step.kind:<12}  {name}"
    if not step.detail or len(plain_head) + 2 + len(step.detail) <= WIDTH:
        return [f"{head}  {step.detail}".rstrip()]
    indent = " " * 10
    wrapped = textwrap.wrap(
        step.detail,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,  # URLs are never cut
        break_on_hyphens=False,
    )
    return [head.rstrip(), *wrapped]


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--write-env", is_flag=True, help="Write the webhook secrets to ./.env.")
@click.option(
    "--edit-shared-screens",
    is_flag=True,
    help="Add the impact fields to Jira screens that projects the connector does not serve "
    "share too, without asking.",
)
def install(dry_run: bool, write_env: bool, edit_shared_screens: bool) -> None:
    """Create or update the Zendesk fields, webhook and trigger, the Jira webhook, and the Jira
    impact fields on the team projects' edit and view screens.

    Writes their ids into the config file, changing only those lines.
    """
    from connector.install.reach import explained
    from connector.install.run import finish_install, plan_install

    runtime = _runtime()
    with explained(runtime.settings):
        plan, installed = plan_install(runtime, _shared_screens(edit_shared_screens, dry_run))
        print_plan(plan, "install plan" + (" (dry run: nothing changed)" if dry_run else ""))
        if dry_run:
            return
        plan.apply()
        written = finish_install(runtime, installed)
    path = runtime.settings.config_path
    click.echo(f"ids written to {path}" if written else f"config unchanged ({path})")
    for note in plan.notes:
        click.echo(note)
    _show_secrets(runtime, installed, write_env)
    changed = len(plan.changes)
    click.echo(f"install done: {changed} change(s)" if changed else "already installed: no change")


def _shared_screens(edit_shared: bool, dry_run: bool) -> Any:
    """Whether a screen other projects share may change: the flag, else ask (never in a dry
    run, nor without a terminal)."""

    def ask(screen_id: int, others: list[str]) -> bool:
        if edit_shared:
            return True
        if dry_run or not sys.stdin.isatty():
            return False
        return click.confirm(
            f"Jira screen {screen_id} is shared with projects the connector does not serve "
            f"({', '.join(others)}). Add the impact fields to it?",
            default=False,
        )

    return ask


def _show_secrets(runtime: Any, installed: Any, write_env: bool) -> None:
    from connector.install.run import secret_lines

    secrets = secret_lines(installed, runtime)
    if secrets and write_env:
        from dotenv import set_key

        for name, value in secrets.items():
            set_key(".env", name, value)
        click.echo(f"webhook secrets written to .env: {', '.join(secrets)}")
    elif secrets:
        click.echo("Set these in the connector's environment (or rerun with --write-env):")
        for name, value in secrets.items():
            click.echo(f"  {name}={value}")


def _deleting(ticket_fields: int, issue_fields: int) -> str:
    parts = []
    if ticket_fields:
        parts.append(f"{ticket_fields} ticket fields and their values on every ticket")
    if issue_fields:
        parts.append(f"{issue_fields} Jira impact fields and their values on every issue")
    return f"Delete {' and '.join(parts)}?"


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option(
    "--delete-fields",
    is_flag=True,
    help="Delete everything install created, the ticket fields and the Jira impact fields too: "
    "every ticket and issue loses their values (Jira key, status, solution, impact). Asks first.",
)
@click.option("--yes", is_flag=True, help="Do not ask before deleting the ticket fields.")
def uninstall(dry_run: bool, delete_fields: bool, yes: bool) -> None:
    """Switch off the connector's webhooks and trigger; the ticket fields and their values stay.

    `connector install` switches them back on. With --delete-fields, the webhooks, the trigger,
    the eight ticket fields and the Jira impact fields are deleted, and with the fields their
    values on every ticket and issue.
    """
    from connector.install.reach import explained
    from connector.install.run import finish_uninstall, plan_uninstall

    runtime = _runtime()
    with explained(runtime.settings):
        plan = plan_uninstall(runtime, delete_fields=delete_fields)
        print_plan(plan, "uninstall plan" + (" (dry run: nothing changed)" if dry_run else ""))
        if dry_run:
            return
        fields = [s for s in plan.changes if s.kind == "ticket field"]
        jira_fields = [s for s in plan.changes if s.kind == "issue field"]
        if fields or jira_fields:
            click.echo(STOP_SERVE)
            if not yes:
                click.confirm(_deleting(len(fields), len(jira_fields)), abort=True)
        plan.apply()
    cleared = finish_uninstall(runtime, deleted=delete_fields)
    if cleared:
        click.echo(f"ids cleared from {runtime.settings.config_path}")
    if delete_fields:
        click.echo(f"uninstall done: {len(plan.changes)} removed")
        return
    switched = [s for s in plan.changes if s.kind != "app"]
    click.echo(
        f"uninstall done: {len(switched)} switched off (`connector install` switches "
        "them back on)\nthe ticket fields, the Jira impact fields and their values stay "
        "(`connector uninstall --delete-fields` deletes them)"
    )
    if len(switched) < len(plan.changes):
        click.echo("the sidebar app was removed from Zendesk (`connector install` puts it back)")
