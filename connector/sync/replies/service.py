"""The entry points the queue and reconcile use: run one problem's fan-out to convergence (or to
the end of its time slice), and find problems whose replies are not finished."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, exists, func, literal, or_, select

from connector.logs import log_event
from connector.store.models import Link, Problem, ProblemState, Reply, ReplyState
from connector.store.reply_models import ReplyRun
from connector.sync.replies import rows
from connector.sync.replies.fanout import Fanout, Tuning
from connector.sync.replies.followups import deliver_followups
from connector.sync.replies.plan import UNMAPPED, WORKAROUND, Run, load_run, plan_rows
from connector.sync.replies.summary import is_finished, post_summary

if TYPE_CHECKING:
    from connector.sync.ports import Services

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


def current_run(runtime: Services, problem_id: int) -> Run | None:
    with runtime.db.session() as session:
        return load_run(session, runtime.config, problem_id)


def run_fanout(runtime: Services, problem_id: int, tuning: Tuning | None = None) -> FanoutResult:
    """Converge one problem's replies with Zendesk; safe to call any number of times, anywhere."""
    tuning = tuning or Tuning.from_env()
    run = current_run(runtime, problem_id)
    if run is None:
        return FanoutResult(problem_id, None)
    result = FanoutResult(problem_id, run.outcome)
    if run.held:
        log_event(
            log, "replies.held", problem_id=problem_id, outcome=run.outcome, reason=run.held_reason
        )
        result.held = run.held_reason
        return result
    result.planned = plan_rows(runtime, run)
    log_event(
        log, "replies.fanout.start", problem_id=problem_id, outcome=run.outcome, new=result.planned
    )

    def still_current() -> bool:
        now = current_run(runtime, problem_id)
        return now is not None and now.outcome == run.outcome and not now.held

    progress = Fanout(runtime, run, tuning).deliver(still_current)
    again = [progress.again_in]
    if still_current():
        again.append(deliver_followups(runtime, run, tuning))
    result.counts = rows.count_states(runtime, run)
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


def problems_with_unfinished_replies(runtime: Services) -> list[int]:
    """Problems owing replies for their current outcome: linked tickets without a row, rows not
    delivered, or a finished run whose Jira summary is missing."""
    replies = runtime.config.replies
    outcome = case(
        (Problem.state == ProblemState.RESOLVED, func.coalesce(Problem.outcome, UNMAPPED)),
        else_=literal(WORKAROUND),
    )
    workaround_open = and_(
        literal(replies.send_workaround),
        Problem.state == ProblemState.OPEN,
        func.lower(Problem.solution_kind) == WORKAROUND,
        func.coalesce(Problem.solution_text, "") != "",
    )
    of_outcome = and_(Reply.problem_id == Problem.id, Reply.outcome == outcome)
    unplanned = exists().where(
        Link.problem_id == Problem.id,
        ~exists().where(of_outcome, Reply.ticket_id == Link.ticket_id),
    )
    undelivered = exists().where(
        of_outcome,
        or_(
            Reply.state.in_(rows.OPEN_STATES),
            and_(Reply.state == ReplyState.FOLLOWUP, Reply.followup_ticket_id.is_(None)),
        ),
    )
    no_summary = and_(
        Problem.jira_key.is_not(None),
        exists().where(of_outcome),
        exists().where(
            ReplyRun.problem_id == Problem.id,
            ReplyRun.outcome == outcome,
            ReplyRun.summary_posted_at.is_(None),
        ),
    )
    query = (
        select(Problem.id)
        .where(
            or_(Problem.state == ProblemState.RESOLVED, workaround_open),
            or_(unplanned, undelivered, no_summary),
        )
        .order_by(Problem.id)
    )
    with runtime.db.session() as session:
        return list(session.scalars(query))
