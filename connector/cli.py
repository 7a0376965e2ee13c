"""The `connector` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from connector import __version__
from connector.errors import ConfigError, ConnectorError

F = TypeVar("F", bound=Callable[..., Any])


def _runtime() -> Any:
    from connector.bootstrap import WorkerContext
    from connector.logs import configure_logging

    runtime = WorkerContext()
    configure_logging(runtime.settings.log_level, runtime.settings.log_json)
    return runtime


def host_port(default_port: int) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        fn = click.option("--port", default=default_port, show_default=True, type=int)(fn)
        fn = click.option("--host", default="127.0.0.1", show_default=True)(fn)
        return fn

    return decorate


# The Jira a sandbox plays (the demo's --jira, the sandbox's --deployment): keys of
# connector_sandboxes.jira.DEPLOYMENTS, imported only when a command runs.
JIRA_DEPLOYMENT = click.Choice(["cloud", "datacenter"], case_sensitive=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="connector")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log at DEBUG, with each step of the database migrations (as CONNECTOR_LOG_LEVEL=DEBUG).",
)
def cli(verbose: bool) -> None:
    """Link Zendesk tickets that share a cause to one Jira issue, mirror it, close the loop."""
    if verbose:
        # Through the environment, so that `serve`'s web and worker processes log the same way.
        os.environ["CONNECTOR_LOG_LEVEL"] = "DEBUG"


@cli.command()
@click.option(
    "--tickets",
    type=click.IntRange(10, 100_000),
    default=60,
    show_default=True,
    help="Customer tickets to create, shared by the stories, which need at least 21, so a "
    "small number is raised (10 gives 21).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--keep", is_flag=True, help="Leave the dashboard and sandboxes running.")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the demo's database, queue and config here, to look at afterwards "
    "(default: a new temporary directory).",
)
@click.option(
    "--jira",
    "jira_deployment",
    type=JIRA_DEPLOYMENT,
    default="cloud",
    show_default=True,
    help="Which Jira the sandbox plays: Cloud (email + API token) or Data Center 10.3 "
    "(a personal access token).",
)
def demo(
    tickets: int, as_json: bool, keep: bool, workdir: Path | None, jira_deployment: str
) -> None:
    """Play the whole loop against local sandboxes: link, weigh, mirror, reply."""
    from connector.demo.run import run_demo
    from connector_sandboxes.jira import DEPLOYMENTS

    deployment = DEPLOYMENTS[jira_deployment.lower()]
    summary = run_demo(tickets, as_json, keep, workdir, jira_deployment=deployment)
    if summary.duplicate_replies or summary.unanswered:
        sys.exit(1)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from connector.store.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.settings.database_url)
    click.echo(f"database is at the latest schema ({_safe_url(runtime.settings.database_url)})")


@cli.command()
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Worker threads (default: CONNECTOR_WORKER_THREADS, which defaults to 4).",
)
def worker(threads: int | None) -> None:
    """Run the task consumer (scale out by starting it on several machines)."""
    from connector.queue import create_consumer
    from connector.store.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.settings.database_url)
    create_consumer(runtime.huey, runtime.settings, threads).run()


@cli.command()
@host_port(8000)
@click.option("--workers", type=int, default=2, show_default=True, help="Web (gunicorn) processes.")
def web(host: str, port: int, workers: int) -> None:
    """Run the web tier (webhooks, dashboard, API) under gunicorn."""
    runtime = _runtime()
    from connector.store.migrate import upgrade

    upgrade(runtime.settings.database_url)
    os.execvp(sys.executable, _gunicorn_argv(host, port, workers))


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        # The asyncio worker reads each request before a thread runs the app (a slow client
        # holds no thread); the app's threads are CONNECTOR_WEB_THREADS.
        "--worker-class",
        "asgi",
        "--asgi-lifespan",
        "off",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
        # No query string or referer: a `?token=` dashboard login must not reach the log.
        "--access-logformat",
        '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s',
        "webhook_app:create_asgi_app()",
    ]


@cli.command()
@host_port(8000)
@click.option(
    "--workers",
    type=int,
    default=2,
    show_default=True,
    help="Web (gunicorn) processes; one task worker runs beside them with "
    "CONNECTOR_WORKER_THREADS threads.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run web and worker together (embedded defaults: SQLite database and queue)."""
    from connector.store.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.settings.database_url)
    # Web and worker are separate processes: they sum their metrics in one directory.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="connector-metrics-"))
    children = [
        subprocess.Popen(_gunicorn_argv(host, port, workers)),
        subprocess.Popen([sys.executable, "-m", "connector", "worker"]),
    ]
    click.echo(f"connector serving on http://{host}:{port} (web + worker); Ctrl-C stops both")
    sys.exit(_supervise(children))


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    """Wait for a stop signal or a child exit, then stop every child gracefully."""
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
    return 0 if stopping and not failed else 1


@cli.command()
def reconcile() -> None:
    """Run one reconcile pass now (the worker also runs it periodically)."""
    from connector.store.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.settings.database_url)
    summary = runtime.tasks["reconcile"].call_local()
    click.echo(" ".join(f"{k}={v}" for k, v in summary.items()))


@cli.group()
def sandbox() -> None:
    """Local Zendesk and Jira API servers for tests, the demo and rehearsals."""


@sandbox.command("zendesk")
@host_port(8081)
@click.option("--email", default="admin@example.com", show_default=True)
@click.option("--token", default="sandbox", show_default=True)
def sandbox_zendesk(host: str, port: int, email: str, token: str) -> None:
    """Run the Zendesk sandbox."""
    from connector_sandboxes.zendesk import ZendeskSandbox

    ZendeskSandbox(email=email, token=token).serve_forever(host, port)


@sandbox.command("jira")
@host_port(8082)
@click.option("--email", default="admin@example.com", show_default=True)
@click.option("--token", default="sandbox", show_default=True)
@click.option("--pat", default="sandbox", show_default=True, help="The PAT (Data Center only).")
@click.option(
    "--deployment",
    type=JIRA_DEPLOYMENT,
    default="cloud",
    show_default=True,
    help="Answer as Jira Cloud, or as Jira Data Center 10.3 (REST v2 only, personal access "
    "tokens, users by name and key).",
)
@click.option(
    "--config",
    "config_path",
    default=None,
    metavar="FILE",
    help="Create the Jira projects of this config file's teams instead of FIN, DOC, ENG, SHIP.",
)
def sandbox_jira(
    host: str,
    port: int,
    email: str,
    token: str,
    pat: str,
    deployment: str,
    config_path: str | None,
) -> None:
    """Run the Jira sandbox."""
    from connector.config import load_config
    from connector_sandboxes.jira import DEPLOYMENTS, JiraSandbox

    kwargs: dict[str, Any] = {"deployment_type": DEPLOYMENTS[deployment.lower()]}
    if config_path:
        kwargs["projects"] = tuple(t.jira_project for t in load_config(config_path).teams.values())
    JiraSandbox(email=email, token=token, pat=pat, **kwargs).serve_forever(host, port)


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ConnectorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


# Commands that live in their own modules (they import helpers from this one).
from connector.cli_events import events  # noqa: E402
from connector.cli_install import install, uninstall  # noqa: E402
from connector.cli_ops import doctor  # noqa: E402
from connector.cli_replies import replies  # noqa: E402
from connector.cli_suggestions import problems, suggestions  # noqa: E402

cli.add_command(doctor)
cli.add_command(events)
cli.add_command(install)
cli.add_command(problems)
cli.add_command(replies)
cli.add_command(suggestions)
cli.add_command(uninstall)
