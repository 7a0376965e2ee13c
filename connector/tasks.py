"""Queue tasks. Each is a trigger that re-reads the database and converges; repeats are harmless."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from huey import Huey, crontab

from connector.logs import log_event
from connector.ops.metrics import instrument_huey
from connector.store.models import Problem
from connector.sync import events, jira_events, zendesk_events
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.reconcile import reconcile_store
from connector.sync.refresh import Hooks
from connector.sync.replies.tasks import (
    problems_with_unfinished_replies,
    register_reply_tasks,
    request_fanout,
)

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)
RETRIES = {"retries": 8, "retry_delay": 5}


def register_tasks(huey: Huey, runtime: Runtime) -> None:
    """Register the tasks on `huey`; the web tier registers them too, to enqueue them."""
    instrument_huey(huey)
    interval_minutes = max(1, runtime.config.reconcile_interval_seconds // 60)

    @huey.task(name="process_events", **RETRIES)
    def process_events() -> int:
        handled = events.process_pending(runtime)
        if handled:
            log_event(log, "task.process_events.done", events=handled)
        if handled >= runtime.settings.event_batch_size:
            # A full batch: more are waiting (a storm). Chain rather than hold the worker.
            process_events()
        return handled

    @huey.task(name="write_impact", **RETRIES)
    def write_impact(problem_id: int) -> None:
        from connector.sync.impact import write_impact as write

        due = write(runtime, problem_id)
        if due is not None:
            schedule_impact(problem_id, due)

    def schedule_impact(problem_id: int, due: datetime) -> None:
        write_impact.schedule(args=(problem_id,), eta=due + timedelta(milliseconds=50))

    @huey.task(name="mirror", **RETRIES)
    def mirror(problem_id: int) -> None:
        with runtime.db.session() as session:
            problem = session.get(Problem, problem_id)
            issue_id = problem.jira_issue_id if problem else None
        if issue_id:
            jira_events.sync_issue(runtime, issue_id, schedule_mirror, fanout)

    def schedule_mirror(problem_id: int, due: datetime) -> None:
        mirror.schedule(args=(problem_id,), eta=due + timedelta(milliseconds=50))

    def fanout(problem_id: int) -> None:
        request_fanout(runtime, problem_id)

    hooks = Hooks(schedule_impact=schedule_impact, fanout=fanout)

    @huey.task(name="refresh_problems", **RETRIES)
    def refresh(problem_ids: list[int]) -> None:
        from connector.sync.refresh import refresh_problems

        refresh_problems(runtime, problem_ids, hooks)

    @huey.periodic_task(crontab(minute=f"*/{interval_minutes}"), name="reconcile")
    def reconcile() -> dict[str, Any]:
        return run_reconcile(runtime, process_events, refresh, schedule_mirror, fanout)

    register_reply_tasks(huey, runtime)
    events.SOURCE_HANDLERS["zendesk"] = zendesk_events.make_handler(hooks)
    events.SOURCE_HANDLERS["jira"] = jira_events.make_handler(schedule_mirror, fanout)
    huey.connector_tasks = {
        "process_events": process_events,
        "reconcile": reconcile,
        "write_impact": write_impact,
        "refresh_problems": refresh,
        "mirror": mirror,
    }


def run_reconcile(
    runtime: Runtime, process_events: Any, refresh: Any, schedule_mirror: Any, fanout: Any
) -> dict[str, Any]:
    """Re-derive pending work from the database and poll Jira, so lost triggers and missed
    webhooks heal by themselves."""
    from connector.sync.jira_poll import poll_jira

    summary = reconcile_store(runtime)
    if summary["stale_events"]:
        process_events()
    if summary["problems"]:
        refresh(summary["problems"])
    behind = poll_jira(runtime, schedule_mirror, fanout) if summary["tracked"] else 0
    sync_known_problem_options(runtime)  # resolved problems leave after the grace period
    unfinished = problems_with_unfinished_replies(runtime)
    for problem_id in unfinished:
        fanout(problem_id)
    result = {
        "stale_events": summary["stale_events"],
        "problems": len(summary["problems"]),
        "jira_behind": behind,
        "unfinished_replies": len(unfinished),
    }
    log_event(log, "task.reconcile.done", **result)
    return result


def enqueue(runtime: Runtime, name: str, *args: Any) -> None:
    if name == "process_events":
        request_processing(runtime)
        return
    runtime.huey.connector_tasks[name](*args)


def request_processing(runtime: Runtime) -> None:
    """Ask for the pending events to be processed: at once on an idle connector, coalesced
    into one batch per `event_coalesce_seconds` under a storm (see connector.coalesce).

    A planned run claims every pending event when it starts, so a storm costs one ticket read
    per batch, not per event; an event stored after a run started gets a run of its own.
    """
    delay = runtime.event_coalescer.request(runtime.settings.event_coalesce_seconds)
    task = runtime.huey.connector_tasks["process_events"]
    if delay is None:
        return  # the planned run takes this event too
    if delay <= 0:
        task()
    else:
        task.schedule(delay=delay)
