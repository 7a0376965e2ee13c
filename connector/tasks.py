"""Queue tasks, registered once per queue by the composition root (`connector.bootstrap`).

Each task is a trigger that re-reads the database and converges; repeats are harmless.
`QueueTasks` is also the sync core's `Scheduler`: what the core asks for later becomes a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from huey import Huey, crontab
from huey.api import TaskWrapper

from connector.coalesce import Coalescer
from connector.config import Config
from connector.logs import log_event
from connector.ops.metrics import instrument_huey
from connector.retry import Backoff
from connector.settings import Settings
from connector.store import inbox, reply_runs
from connector.store import suggestions as suggestion_vectors
from connector.sync import app_actions, events, jira_events, zendesk_events
from connector.sync.config_change import remirror_after_config_change
from connector.sync.impact import write_impact
from connector.sync.jira_poll import poll_jira
from connector.sync.known_problems import retire_empty_problems, sync_known_problem_options
from connector.sync.ports import Services
from connector.sync.reconcile import reconcile_store
from connector.sync.refresh import refresh_problems
from connector.sync.replies.service import problems_with_unfinished_replies, run_fanout
from connector.sync.suggestions.emerging_scan import scan_emerging
from connector.sync.suggestions.proposals import apply_accepted

log = logging.getLogger(__name__)
# Past a due time, a scheduled task runs this much later so the due check sees it as due.
AFTER_DUE = timedelta(milliseconds=50)


class QueueTasks:
    """The connector's tasks on one Huey instance, and the `Scheduler` that enqueues them.

    Task bodies ask `services()` for what they work with when they run (in a worker); enqueuing
    needs only the settings, so the web tier schedules without any vendor client.
    """

    def __init__(
        self,
        huey: Huey,
        settings: Settings,
        config: Config,
        services: Callable[[], Services],
    ) -> None:
        self.huey = huey
        self.settings = settings
        self.config = config
        self.services = services
        self.coalescer = Coalescer()  # one per process: see `process_events`
        self._wake_at: datetime | None = None  # this process's planned run for waiting events
        self.handlers: dict[str, events.Handler] = {
            "zendesk": zendesk_events.handle,
            "jira": jira_events.handle,
            "app": app_actions.handle,
        }
        instrument_huey(huey)
        self._register()

    # -- the Scheduler the sync core uses -------------------------------------------------------
    def process_events(self) -> None:
        """Ask for the pending events to be processed: at once on an idle connector, coalesced
        into one batch per `event_coalesce_seconds` under a storm (see connector.coalesce).

        A planned run claims every pending event when it starts, so a storm costs one ticket
        read per batch, not per event; an event stored after a run started gets a run of its own.
        """
        delay = self.coalescer.request(self.settings.event_coalesce_seconds)
        if delay is None:
            return  # the planned run takes this event too
        if delay <= 0:
            self.process_events_task()
        else:
            self.process_events_task.schedule(delay=delay)

    def process_events_at(self, due: datetime, now: datetime) -> None:
        """Plan a run at `due` for events waiting to be retried, unless this process already
        planned one that is still ahead and no later (so a chain of retries stays one chain per
        process, however many runs ask)."""
        planned = self._wake_at
        if planned is not None and now < planned <= due:
            return
        self._wake_at = due
        self.process_events_task.schedule(eta=due + AFTER_DUE)

    def refresh(self, problem_ids: Iterable[int]) -> None:
        self.refresh_task(sorted(set(problem_ids)))

    def write_impact_at(self, problem_id: int, due: datetime) -> None:
        self.write_impact_task.schedule(args=(problem_id,), eta=due + AFTER_DUE)

    def mirror_at(self, problem_id: int, due: datetime) -> None:
        self.mirror_task.schedule(args=(problem_id,), eta=due + AFTER_DUE)

    def fanout(self, problem_id: int) -> None:
        self.fanout_task(problem_id)
        log_event(log, "replies.fanout.requested", problem_id=problem_id)

    def apply_proposals(self) -> None:
        self.apply_proposals_task()

    def __getitem__(self, name: str) -> TaskWrapper:
        """A registered task by its queue name (for the CLI, tests and the admin API)."""
        return self.by_name[name]

    # -- the tasks ------------------------------------------------------------------------------
    def _register(self) -> None:
        huey, services = self.huey, self.services
        interval_minutes = max(1, self.config.reconcile_interval_seconds // 60)
        retries = Backoff.for_tasks(self.settings).huey_options()
        heartbeat = self.settings.replies_heartbeat_seconds

        @huey.task(name="process_events", **retries)
        def process_events_task() -> int:
            handled = events.process_pending(services(), self.handlers)
            if handled:
                log_event(log, "task.process_events.done", events=handled)
            if handled >= self.settings.event_batch_size:
                # A full batch: more are waiting (a storm). Chain rather than hold the worker.
                process_events_task()
            return handled

        @huey.task(name="write_impact", **retries)
        def write_impact_task(problem_id: int) -> None:
            due = write_impact(services(), problem_id)
            if due is not None:
                self.write_impact_at(problem_id, due)

        @huey.task(name="mirror", **retries)
        def mirror_task(problem_id: int) -> None:
            jira_events.mirror_problem_now(services(), problem_id)

        @huey.task(name="refresh_problems", **retries)
        def refresh_task(problem_ids: list[int]) -> None:
            refresh_problems(services(), problem_ids)

        @huey.task(name="replies_fanout", **retries)
        def fanout_task(problem_id: int) -> dict[str, Any]:
            # A dead man's switch: if this worker dies mid-run, the watchdog resumes the run
            # about `replies_heartbeat_seconds` after its last heartbeat.
            watchdog_task.schedule(args=(problem_id,), delay=heartbeat)
            result = run_fanout(services(), problem_id)
            if result.again_in is not None:
                delay = max(result.again_in, 0.05)
                fanout_task.schedule(args=(problem_id,), delay=delay)
                log_event(
                    log, "task.replies_fanout.again", problem_id=problem_id, delay=round(delay, 2)
                )
            return {"problem_id": problem_id, "outcome": result.outcome, "held": result.held}

        @huey.task(name="replies_watchdog")
        def watchdog_task(problem_id: int) -> None:
            runtime = services()
            seen = reply_runs.last_beat(runtime.db, problem_id)
            if seen is None:
                return  # the fan-out ended; what it left to do is scheduled already
            silent = (runtime.clock.now() - seen).total_seconds()
            if silent < heartbeat:
                watchdog_task.schedule(args=(problem_id,), delay=heartbeat - silent)
                return
            reply_runs.clear_stale_beats(runtime.db, problem_id, seen)
            log_event(
                log,
                "replies.fanout.resumed",
                level=logging.WARNING,
                problem_id=problem_id,
                silent_seconds=round(silent, 1),
            )
            self.fanout(problem_id)

        @huey.task(name="apply_proposals", **retries)
        def apply_proposals_task() -> list[int]:
            return apply_accepted(services())

        @huey.periodic_task(crontab(minute=f"*/{interval_minutes}"), name="reconcile")
        def reconcile_task() -> dict[str, Any]:
            return run_reconcile(services(), self)

        self.process_events_task = process_events_task
        self.write_impact_task = write_impact_task
        self.mirror_task = mirror_task
        self.refresh_task = refresh_task
        self.fanout_task = fanout_task
        self.watchdog_task = watchdog_task
        self.reconcile_task = reconcile_task
        self.apply_proposals_task = apply_proposals_task
        self.by_name: dict[str, TaskWrapper] = {
            "process_events": process_events_task,
            "write_impact": write_impact_task,
            "mirror": mirror_task,
            "refresh_problems": refresh_task,
            "replies_fanout": fanout_task,
            "replies_watchdog": watchdog_task,
            "reconcile": reconcile_task,
            "apply_proposals": apply_proposals_task,
        }


def run_reconcile(services: Services, tasks: QueueTasks) -> dict[str, Any]:
    """Re-derive pending work from the database and poll Jira, so lost triggers and missed
    webhooks heal by themselves."""
    stale_after = timedelta(seconds=services.settings.reconcile_stale_event_seconds)
    summary = reconcile_store(services.db, services.clock.now(), stale_after)
    if summary["stale_events"]:
        tasks.process_events_task()
    if summary["problems"]:
        tasks.refresh(summary["problems"])
    behind = poll_jira(services) if summary["tracked"] else 0
    remirrored = remirror_after_config_change(services)  # a restart with a new config
    retire_empty_problems(services)  # empty for too long: out of the open lists
    sync_known_problem_options(services)  # resolved and empty problems leave after their grace
    unfinished = problems_with_unfinished_replies(services.db, services.config)
    for problem_id in unfinished:
        tasks.fanout(problem_id)
    retention = timedelta(days=services.settings.event_retention_days)
    deleted = inbox.delete_finished_before(services.db, services.clock.now() - retention)
    kept_for = timedelta(days=services.config.suggestions.retention_days)
    forgotten = suggestion_vectors.forget_before(services.db, services.clock.now() - kept_for)
    applied = apply_accepted(services)  # an acceptance whose task was lost
    proposed = scan_emerging(services)
    result = {
        "stale_events": summary["stale_events"],
        "problems": len(summary["problems"]),
        "jira_behind": behind,
        "unfinished_replies": len(unfinished),
        "events_deleted": deleted,
        "remirrored": remirrored,
        "vectors_forgotten": forgotten,
        "proposals_applied": len(applied),
        "proposals_grown": len(proposed),
    }
    log_event(log, "task.reconcile.done", **result)
    return result
