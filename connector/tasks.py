"""Queue tasks. Each is a trigger that re-reads the database and converges; repeats are harmless."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from huey import Huey, crontab

from connector.logs import log_event
from connector.sync import events
from connector.sync.reconcile import reconcile_store
from connector.sync.zendesk_events import make_handler

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)


def register_tasks(huey: Huey, runtime: Runtime) -> None:
    """Register the tasks on `huey`; the web tier registers them too, to enqueue them."""
    interval_minutes = max(1, runtime.config.reconcile_interval_seconds // 60)

    @huey.task(retries=8, retry_delay=5, name="process_events")
    def process_events() -> int:
        handled = events.process_pending(runtime)
        if handled:
            log_event(log, "task.process_events.done", events=handled)
            # More may be waiting (a storm): chain rather than hold the worker.
            process_events()
        return handled

    @huey.task(retries=8, retry_delay=5, name="write_impact")
    def write_impact(problem_id: int) -> None:
        from connector.sync.impact import write_impact as write

        due = write(runtime, problem_id)
        if due is not None:
            schedule_impact(problem_id, due)

    def schedule_impact(problem_id: int, due: datetime) -> None:
        write_impact.schedule(args=(problem_id,), eta=due + timedelta(milliseconds=50))

    @huey.task(retries=8, retry_delay=5, name="refresh_problems")
    def refresh(problem_ids: list[int]) -> None:
        from connector.sync.refresh import refresh_problems

        refresh_problems(runtime, problem_ids, schedule_impact)

    @huey.periodic_task(crontab(minute=f"*/{interval_minutes}"), name="reconcile")
    def reconcile() -> dict[str, Any]:
        return run_reconcile(runtime, process_events, refresh)

    events.SOURCE_HANDLERS["zendesk"] = make_handler(schedule_impact)
    huey.connector_tasks = {
        "process_events": process_events,
        "reconcile": reconcile,
        "write_impact": write_impact,
        "refresh_problems": refresh,
    }


def run_reconcile(runtime: Runtime, process_events: Any, refresh: Any) -> dict[str, Any]:
    """Re-derive pending work from the database, so lost triggers heal by themselves."""
    summary = reconcile_store(runtime)
    if summary["stale_events"]:
        process_events()
    if summary["problems"]:
        refresh(summary["problems"])
    log_event(
        log,
        "task.reconcile.done",
        stale_events=summary["stale_events"],
        problems=len(summary["problems"]),
    )
    return {"stale_events": summary["stale_events"], "problems": len(summary["problems"])}


def enqueue(runtime: Runtime, name: str, *args: Any) -> None:
    runtime.huey.connector_tasks[name](*args)
