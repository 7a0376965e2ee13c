"""Run the demo: start everything in process, tell the story, print the summary."""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from connector.demo.scenario import Story, demo_config
from connector.demo.stack import LocalStack
from connector.demo.summary import Summary, summarise


def run_demo(
    tickets: int,
    as_json: bool,
    keep: bool,
    workdir: Path | None,
    *,
    jira_deployment: str = "Cloud",
) -> Summary:
    console = Console(stderr=as_json)
    logging.getLogger().setLevel(logging.ERROR)  # the story is the output; logs stay quiet
    workdir = workdir or Path(tempfile.mkdtemp(prefix="connector-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(12)
    started = time.monotonic()
    stack = LocalStack(
        workdir,
        config_text=demo_config(),
        zendesk={"job_seconds_per_ticket": 0.002},
        settings={"admin_token": token},
        jira_deployment=jira_deployment,
    )
    with console.status("starting the Zendesk and Jira sandboxes and the connector..."):
        stack.start(install=False)
    jira_label = "Jira sandbox" if jira_deployment == "Cloud" else "Jira Data Center sandbox"
    console.print(
        f"[bold]Zendesk sandbox[/] {stack.zendesk.url}   [bold]{jira_label}[/] {stack.jira.url}"
    )
    with console.status(
        "connector install: fields, webhook, trigger and sidebar app in Zendesk, webhook in Jira"
    ):
        stack.install()
    impact = [v for v in stack.rt.config.jira.impact_fields.model_dump().values() if v]
    where = (
        "on the team projects' screens"
        if jira_deployment == "Cloud"
        else "(Data Center has no screen API: an admin adds them to the screens)"
    )
    console.print(
        "[green]installed[/] into both sandboxes: 8 ticket fields, a webhook, a trigger and the "
        f"sidebar app in Zendesk; a webhook and {len(impact)} impact fields {where} in Jira"
    )
    story = Story(stack, lambda line: console.print(f"[cyan]>[/] {line}"), tickets)
    try:
        story.run()
        summary = summarise(stack, story.created, time.monotonic() - started, asked=tickets)
    except BaseException:
        stack.stop()
        raise
    if as_json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        console.print(_table(summary))
    if keep:
        _keep_running(stack, token, console)
    else:
        stack.stop()
    return summary


def _table(summary: Summary) -> Table:
    table = Table(title="demo summary", show_header=False)
    labels = {
        "problems": "problems (Jira issues in 4 team projects)",
        "suggested": "tickets the connector suggested a problem for",
        "proposals_accepted": "proposed problems (emerging causes) accepted",
        "tickets": "customer tickets",
        "linked": "tickets linked to a problem",
        "replies_sent": "public replies sent",
        "workaround_replies": "  of them, workarounds sent before the fix",
        "followups": "follow-up tickets (closed before the fix)",
        "duplicate_replies": "duplicate replies",
        "unanswered": "linked tickets of resolved problems without a reply",
        "jira_calls": "Jira API calls",
        "zendesk_calls": "Zendesk API calls",
        "seconds": "seconds",
    }
    data = summary.as_dict()
    for key, label in labels.items():
        table.add_row(label, str(data[key]) + _why(summary, key))
    return table


def _why(summary: Summary, key: str) -> str:
    asked = summary.tickets_asked
    if key == "tickets" and asked is not None and asked != summary.tickets:
        return f" (asked for {asked}: the six stories need at least {summary.tickets})"
    return ""


def _keep_running(stack: LocalStack, token: str, console: Console) -> None:
    url = str(stack.rt.settings.public_url).rstrip("/")
    console.print(f"\n[bold]Dashboard[/] {url}/?token={token}")
    console.print(
        f"[bold]A ticket with the sidebar app[/] {stack.zendesk.url}/agent/tickets/1"
        "?user=agent@example.com (any ticket id; user= any agent's email)",
        highlight=False,
    )
    for name, sandbox in (("Zendesk", stack.zendesk), ("Jira", stack.jira)):
        console.print(f"[bold]{name} sandbox[/] {sandbox.url}", highlight=False)
        for line in sandbox.login_lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(
        "Use the agent's or the engineer's login to act as a person (the REST API, or the "
        "control API); changes made with the connector's own login are ignored, as in production."
    )
    console.print("Everything keeps running (the worker too); Ctrl-C stops it.")
    try:
        while True:
            if not stack.run_queue():
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
