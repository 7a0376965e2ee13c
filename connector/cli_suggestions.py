"""`connector problems proposals|accept|dismiss` (proposed problems: emerging causes) and
`connector suggestions rebuild`."""

from __future__ import annotations

import sys
from typing import Any

import click


def _runtime() -> Any:
    from connector.bootstrap import migrated_worker

    return migrated_worker()


@click.group()
def problems() -> None:
    """Proposed problems: recent unlinked tickets alike to each other and to no open problem."""


@problems.command("proposals")
def proposals_command() -> None:
    """List the open proposals: their tickets, organisations and suggested owning team."""
    from connector.ops.proposals import list_proposals

    found = list_proposals(_runtime())
    if not found:
        click.echo("no proposed problem")
    for p in found:
        team = p.suggested_team or "no team suggested"
        tickets = ", ".join(f"#{t.ticket_id}" for t in p.tickets)
        click.echo(
            f"proposal {p.id}: {len(p.tickets)} tickets from {p.organizations} organisations, "
            f"suggested team {team}: {tickets}"
        )


@problems.command("accept")
@click.argument("proposal", type=int)
@click.option("--team", help="The owning team (default: the suggested one).")
@click.option("--summary", required=True, help="The Jira issue's summary.")
def accept_command(proposal: int, team: str | None, summary: str) -> None:
    """Create the problem of PROPOSAL (its Jira issue in the team's project) and link its
    tickets. No customer text goes to Jira unless zendesk.include_personal_data is on."""
    from connector.ops.proposals import BadDecision, ProposalDecided, ProposalNotFound, accept
    from connector.store import problems as stored_problems
    from connector.sync.suggestions.proposals import apply_accepted

    runtime = _runtime()
    try:
        chosen = accept(runtime, proposal, team, summary, actor="cli", enqueue=False)
    except ProposalNotFound:
        click.echo(
            f"error: no proposal {proposal} (`connector problems proposals` lists them)", err=True
        )
        sys.exit(1)
    except (ProposalDecided, BadDecision) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    apply_accepted(runtime)
    with runtime.db.session() as session:
        from connector.store.proposals import get

        applied = get(session, proposal)
        problem = (
            stored_problems.find(session, applied.problem_id)
            if applied and applied.problem_id
            else None
        )
        key = problem.jira_key if problem else None
        linked = len(applied.tickets) if applied else 0
    click.echo(f"accepted: {key or 'the problem'} in team {chosen}, {linked} tickets linked")


@problems.command("dismiss")
@click.argument("proposal", type=int)
def dismiss_command(proposal: int) -> None:
    """Dismiss PROPOSAL: its tickets are never proposed again."""
    from connector.ops.proposals import ProposalDecided, ProposalNotFound, dismiss

    try:
        dismiss(_runtime(), proposal, actor="cli")
    except ProposalNotFound:
        click.echo(f"error: no proposal {proposal}", err=True)
        sys.exit(1)
    except ProposalDecided as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"dismissed: proposal {proposal}")


@click.group()
def suggestions() -> None:
    """The suggestion engine: which open problem a ticket is alike to."""


@suggestions.command("rebuild")
def rebuild_command() -> None:
    """Read every linked and remembered ticket's subject and first comment again and store
    their vectors anew (after an upgrade, or to start on an install that already linked)."""
    from connector.sync.suggestions.rebuild import rebuild

    count = rebuild(_runtime())
    click.echo(f"rebuilt: {count} ticket vectors; the model retrains on next use")
