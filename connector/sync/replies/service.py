"""The entry points the queue and reconcile use: run one problem's fan-out to convergence (or to
the end of its time slice), and find problems whose replies are not finished."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from connector.logs import log_event
from connector.store import reply_rows, reply_runs
from connector.sync.replies.fanout import Fanout, Pulse, Tuning
from connector.sync.replies.followups import deliver_followups
from connector.sync.replies.plan import UNMAPPED, WORKAROUND, Run, load_run
from connector.sync.replies.summary import is_finished, post_summary

if TYPE_CHECKING:
    from connector.config import Config
    from connector.store.db import Database
    from connector.sync.ports import (
        HasClock,
        HasConfig,
        HasJira,
        HasScheduler,
        HasSettings,
        HasStore,
        HasZendesk,
    )

    class FanoutRunNeeds(
        HasStore, HasConfig, HasSettings, HasClock, HasScheduler, HasZendesk, HasJira, Protocol
    ):
        """What converging a problem's replies needs."""


log = logging.getLogger(__name__)


@dataclass
class FanoutResult:
    problem_id: int
    outcome: str | None
    held: str | None = None
    planned: int = 0
    counts: dict[str, int] | None = None
    summary_posted: bool = False
    again_in: float | None = None  # run again after this many seconds (None: finished)


def current_run(db: Database, config: Config, problem_id: int) -> Run | None:
    return load_run(db, config, problem_id)


def run_fanout(
    runtime: FanoutRunNeeds, problem_id: int, tuning: Tuning | None = None
) -> FanoutResult:
    """Converge one problem's replies with Zendesk; safe to call any number of times, anywhere."""
    tuning = tuning or Tuning.from_settings(runtime.settings)
    run = current_run(runtime.db, runtime.config, problem_id)
    if run is None:
        return FanoutResult(problem_id, None)
    result = FanoutResult(problem_id, run.outcome)
    if run.held:
        log_event(
            log, "replies.held", problem_id=problem_id, outcome=run.outcome, reason=run.held_reason
        )
        result.held = run.held_reason
        return result
    # A pending row for every linked ticket that has none yet.
    result.planned = reply_runs.plan_rows(runtime.db, run)
    log_event(
        log, "replies.fanout.start", problem_id=problem_id, outcome=run.outcome, new=result.planned
    )

    def still_current() -> bool:
        now = current_run(runtime.db, runtime.config, problem_id)
        return now is not None and now.outcome == run.outcome and not now.held

    pulse = Pulse(runtime, runtime.clock, run, tuning)
    try:
        progress = Fanout(runtime, run, tuning, pulse).deliver(still_current)
        again = [progress.again_in]
        if still_current():
            again.append(deliver_followups(runtime, run, tuning, pulse))
    finally:
        pulse.stop()  # ended (or raised, and the queue retries it): the watchdog stands down
    if progress.statuses_changed:  # open counts follow: impact to Jira within its interval
        runtime.scheduler.write_impact_at(problem_id, runtime.clock.now())
    result.counts = reply_rows.count_states(runtime.db, run)
    if is_finished(result.counts):
        result.summary_posted = post_summary(runtime, run)
    waits = [a for a in again if a is not None]
    result.again_in = min(waits) if waits else None
    log_event(
        log,
        "replies.fanout.done",
        problem_id=problem_id,
        outcome=run.outcome,
        again_in=result.again_in,
        **{k: v for k, v in result.counts.items() if v},
    )
    return result


def problems_with_unfinished_replies(db: Database, config: Config) -> list[int]:
    """Problems owing replies for their current outcome: linked tickets without a row, rows not
    delivered, or a finished run whose Jira summary is missing."""
    return reply_runs.unfinished_problems(
        db,
        send_workaround=config.replies.send_workaround,
        workaround=WORKAROUND,
        unmapped=UNMAPPED,
    )
