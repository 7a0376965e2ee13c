"""`connector events retry`: put failed inbound events back in the queue."""

from __future__ import annotations

import sys

import click


@click.group()
def events() -> None:
    """Inbound webhook events (see `connector doctor` for the failed ones)."""


@events.command("retry")
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Every failed event.")
def retry(event_ids: tuple[int, ...], retry_all: bool) -> None:
    """Put failed events (by id, or --all) back in the queue, from a fresh attempt count.

    A running worker (`connector worker` or `serve`) takes them at once.
    """
    from connector.bootstrap import WebContext
    from connector.logs import configure_logging
    from connector.ops.events import retry_failed_events
    from connector.store.migrate import upgrade

    if bool(event_ids) == retry_all:
        click.echo("error: name the event ids to retry, or --all (not both)", err=True)
        sys.exit(2)
    app = WebContext()  # a bad setting: `main` prints it and exits 2, as for every command
    configure_logging(app.settings.log_level, app.settings.log_json)
    try:
        upgrade(app.settings.database_url)
        retried = retry_failed_events(app, None if retry_all else event_ids)
    finally:
        app.close()
    if not retried:
        click.echo("no failed event to retry" + ("" if retry_all else " among those ids"))
        return
    missed = sorted(set(event_ids) - set(retried))
    click.echo(f"{len(retried)} failed event(s) back in the queue: {_ids(retried)}")
    if missed:
        click.echo(f"not failed (left as they are): {_ids(missed)}")


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:20]))
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
