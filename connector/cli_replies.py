"""`connector replies preview|approve|status PROBLEM` (PROBLEM = Jira key or problem id)."""

from __future__ import annotations

from typing import Any

import click


def _runtime() -> Any:
    from connector.bootstrap import migrated_worker

    return migrated_worker()


@click.group()
def replies() -> None:
    """The reply every linked customer gets when a problem resolves.

    PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard (3 in /problems/3).
    """


@replies.command("preview")
@click.argument("problem")
def preview_command(problem: str) -> None:
    """Show the rendered reply and how many tickets get a reply, a follow-up, or are skipped.

    PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard (3 in /problems/3).
    """
    from connector.sync.replies.approval import preview

    _print_preview(preview(_runtime(), problem))


@replies.command("approve")
@click.argument("problem")
def approve_command(problem: str) -> None:
    """Approve the reply of the problem's current outcome and start sending it.

    PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard (3 in /problems/3).
    """
    from connector.sync.replies.approval import approve

    result = approve(_runtime(), problem, actor="cli")
    _print_preview(result)
    c = result.counts
    owed = result.customers + c.get("in_progress", 0)
    note = " (and an internal note to the problem ticket)" if c.get("note") else ""
    if owed:
        tickets = f"{owed} ticket{'' if owed == 1 else 's'}"
        click.echo(
            f"approved: the {result.outcome} reply of {_name(result)} goes to {tickets}{note}"
        )
    elif note:
        click.echo(f"approved: the {result.outcome} reply of {_name(result)}{note}")
    else:
        click.echo(f"approved: the {result.outcome} reply of {_name(result)}; nothing left to send")
    if c.get("failed"):
        click.echo(
            f"{c['failed']} failed repl{'y stays' if c['failed'] == 1 else 'ies stay'} failed: "
            f"`connector replies retry {problem}` sends them"
        )


@replies.command("retry")
@click.argument("problem")
def retry_command(problem: str) -> None:
    """Put the problem's parked (failed) replies back and send them, once each.

    PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard (3 in /problems/3).
    """
    from connector.sync.replies.approval import retry_failed

    result = retry_failed(_runtime(), problem, actor="cli")
    name = result.issue_key or f"problem {result.problem_id}"
    if not result.tickets:
        click.echo(f"{name}: no failed reply to retry (see `connector replies status {problem}`)")
        return
    then = (
        f"they wait: {result.held_reason}"
        if result.held_reason
        else "a running worker sends them now"
    )
    click.echo(
        f"{name}: {result.tickets} failed {result.outcome} repl"
        f"{'y' if result.tickets == 1 else 'ies'} back in the queue; {then}"
    )


@replies.command("status")
@click.argument("problem")
def status_command(problem: str) -> None:
    """Show sent, pending and failed replies, with the reasons.

    PROBLEM is the problem's Jira key (FIN-12) or its id on the dashboard (3 in /problems/3).
    """
    from rich.console import Console
    from rich.table import Table

    from connector.sync.replies.approval import status

    result = status(_runtime(), problem)
    console = Console()
    if result.outcome is None:
        console.print(f"{_name(result)}: no reply owed (issue not resolved, no workaround)")
        return
    console.print(f"[bold]{_name(result)}[/] outcome [bold]{result.outcome}[/]")
    if result.held_reason:
        console.print(f"[yellow]held:[/] {result.held_reason}")
    table = Table(
        "replies sent",
        "internal notes",
        "follow-ups",
        "pending",
        "in progress",
        "skipped",
        "failed",
    )
    c = result.counts
    keys = ("sent", "notes", "followup", "pending", "in_progress", "skipped", "failed")
    table.add_row(*(str(c[k]) for k in keys))
    console.print(table)
    if result.problems:
        problems = Table("ticket", "state", "reason", title="not answered")
        for item in result.problems:
            problems.add_row(str(item["ticket_id"]), item["state"], item["reason"])
        console.print(problems)
    console.print("Jira summary: " + ("posted" if result.summary_posted else "not yet"))


def _print_preview(result: Any) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if result.outcome is None:
        console.print(f"{_name(result)}: no reply owed (issue not resolved, no workaround)")
        return
    kind = "public reply" if result.public else "internal note only"
    status = f", status -> {result.status}" if result.status else ""
    title = f"{_name(result)} outcome {result.outcome}: {kind}{status}"
    console.print(Panel(Text(result.body or ""), title=Text(title), expand=False))
    if result.held_reason:
        console.print(f"[yellow]held:[/] {result.held_reason}")
    table = Table("reply", "follow-up", "note", "skip", "already sent", "in progress", "failed")
    c = result.counts
    keys = ("reply", "followup", "note", "skip", "already_sent", "in_progress", "failed")
    table.add_row(*(str(c.get(k, 0)) for k in keys))
    console.print(table)
    if c.get("note"):
        console.print("note: the problem ticket is an agent's; it gets an internal note instead")


def _name(result: Any) -> str:
    return str(result.issue_key or f"problem {result.problem_id}")
