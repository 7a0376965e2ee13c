"""Queue tasks. Each is a trigger that re-reads the database and converges; repeats are harmless."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from huey import Huey, crontab

from connector.errors import TransientError
from connector.logs import log_event
from connector.sync import events

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)


def register_tasks(huey: Huey, runtime: Runtime) -> None:
    """Register the tasks on `huey`; the web tier registers them too, to enqueue them."""
    interval_minutes = max(1, runtime.config.reconcile_interval_seconds // 60)

    @huey.task(retries=5, retry_delay=5, name="process_events")
    def process_events() -> int:
        try:
            handled = events.process_pending(runtime)
        except TransientError as exc:
            log_event(log, "task.process_events.transient", level=logging.WARNING, error=str(exc))
            raise
        if handled:
            log_event(log, "task.process_events.done", events=handled)
            # More may be waiting (a storm); chain rather than hold the worker.
            process_events()
        return handled

    @huey.periodic_task(crontab(minute=f"*/{interval_minutes}"), name="reconcile")
    def reconcile() -> dict[str, Any]:
        return run_reconcile(runtime, process_events)

    huey.connector_tasks = {"process_events": process_events, "reconcile": reconcile}


def run_reconcile(runtime: Runtime, process_events: Any) -> dict[str, Any]:
    """Re-derive pending work from the database, so lost triggers heal by themselves."""
    stale = events.stale_pending_count(runtime, older_than=timedelta(seconds=30))
    if stale:
        process_events()
    summary = {"stale_events": stale}
    log_event(log, "task.reconcile.done", **summary)
    return summary


def enqueue(runtime: Runtime, name: str) -> None:
    runtime.huey.connector_tasks[name]()
