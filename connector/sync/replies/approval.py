"""Preview, approve and status of a problem's reply, as plain data for the CLI, the dashboard
and the admin API. A problem is named by its Jira key (FIN-12) or its id."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from connector.errors import ConnectorError
from connector.logs import log_event
from connector.store import names, reply_reports, reply_rows, reply_runs
from connector.store.models import Problem, ReplyState
from connector.sync.replies.plan import Run, load_run

if TYPE_CHECKING:
    from connector.store.db import Database
    from connector.sync.ports import CoreContext, HasConfig, HasStore

    class ReadNeeds(HasStore, HasConfig, Protocol):
        """What reading a problem's reply needs."""


log = logging.getLogger(__name__)
AGENT_ROLES = ("agent", "admin")


class UnknownProblem(ConnectorError):
    pass


@dataclass
class Preview:
    problem_id: int
    issue_key: str | None
    state: str
    outcome: str | None
    held_reason: str | None = None
    approved: bool = False
    public: bool | None = None
    status: str | None = None
    body: str | None = None
    tag: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def customers(self) -> int:
        """Tickets that would get this reply (or its follow-up) if it were sent now."""
        return self.counts.get("reply", 0) + self.counts.get("followup", 0)

    @property
    def owed(self) -> int:
        """Tickets still owed an answer: the customers, and an agent's problem ticket (a note)."""
        return self.customers + self.counts.get("note", 0)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "customers": self.customers, "owed": self.owed}


@dataclass
class Status:
    problem_id: int
    issue_key: str | None
    outcome: str | None
    held_reason: str | None
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, int]] = field(default_factory=list)
    summary_posted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_problem_id(db: Database, ref: str | int) -> int:
    text = str(ref).strip()
    found = reply_runs.find_problem_id(db, text)
    if found is None:
        raise UnknownProblem(f"no problem with id or Jira key '{text}'")
    return found


def _problem(db: Database, problem_id: int) -> Problem:
    problem = reply_runs.get_problem(db, problem_id)
    if problem is None:
        raise UnknownProblem(f"no problem with id '{problem_id}'")
    return problem


def preview(runtime: ReadNeeds, ref: str | int) -> Preview:
    """The rendered reply and what will happen per ticket; sends nothing."""
    problem_id = find_problem_id(runtime.db, ref)
    problem = _problem(runtime.db, problem_id)
    run = load_run(runtime.db, runtime.config, problem_id)
    result = Preview(problem_id, problem.jira_key, problem.state.value, None)
    if run is None:
        return result
    record = reply_runs.ensure_run(runtime.db, problem_id, run.outcome)
    r = run.rendered
    result.outcome, result.held_reason, result.approved = (
        run.outcome,
        run.held_reason,
        record.approved,
    )
    result.public, result.status, result.body, result.tag = r.public, r.status, r.body, r.tag
    groups = reply_reports.linked_by_state(runtime.db, problem_id, run.outcome)
    result.counts = _will_happen(groups, r.public, run.closed_policy)
    if r.public and result.counts["reply"] and _problem_ticket_gets_a_note(runtime.db, run):
        result.counts["reply"] -= 1
        result.counts["note"] += 1
    return result


def _problem_ticket_gets_a_note(db: Database, run: Run) -> bool:
    """The problem ticket, still owed its answer, is an agent's: it will get an internal note,
    not the customers' reply (as the fan-out decides from its requester's role; a requester
    whose role the worker never read is counted with the replies)."""
    owed, requester = reply_reports.problem_ticket_owed(db, run)
    if not owed:
        return False
    return requester is None or names.role_of(db, requester) in AGENT_ROLES


def _will_happen(
    groups: list[reply_reports.LinkedGroup], public: bool, policy: str
) -> dict[str, int]:
    counts = dict.fromkeys(
        ("reply", "followup", "note", "skip", "already_sent", "in_progress", "failed"), 0
    )
    closed_goes = "followup" if public and policy == "followup" else "skip"
    for g in groups:
        state, n = g.state, g.count
        if state is None or state == ReplyState.PENDING:
            counts[closed_goes if g.ticket_status == "closed" else "reply"] += n
        elif state == ReplyState.CLAIMED:
            counts["in_progress"] += n
        elif state == ReplyState.SENT or (state == ReplyState.FOLLOWUP and g.has_followup):
            counts["already_sent"] += n
        elif state == ReplyState.FOLLOWUP:
            counts["followup"] += n
        elif state == ReplyState.SKIPPED:
            counts["skip"] += n
        else:
            counts["failed"] += n
    return counts


def _owed_run(runtime: ReadNeeds, ref: str | int) -> tuple[Problem, Run]:
    """The problem and the reply it owes now; ConnectorError when it owes none."""
    problem_id = find_problem_id(runtime.db, ref)
    problem = _problem(runtime.db, problem_id)
    run = load_run(runtime.db, runtime.config, problem_id)
    if run is None:
        raise ConnectorError(
            f"problem {problem.jira_key or problem_id} owes no reply: its issue is not "
            "resolved and no workaround is to be sent"
        )
    return problem, run


def approve(runtime: CoreContext, ref: str | int, actor: str = "cli") -> Preview:
    """Approve the current outcome's reply and start sending it."""
    problem, run = _owed_run(runtime, ref)
    problem_id = problem.id
    reply_runs.approve_run(runtime.db, problem_id, run.outcome, actor)
    log_event(log, "replies.approved", problem_id=problem_id, outcome=run.outcome, actor=actor)
    runtime.scheduler.fanout(problem_id)
    return preview(runtime, problem_id)


@dataclass(frozen=True)
class Retried:
    problem_id: int
    issue_key: str | None
    outcome: str
    tickets: int  # parked replies put back (0: none was parked)
    held_reason: str | None  # why they still wait (e.g. for approval), if they do


def retry_failed(runtime: CoreContext, ref: str | int, actor: str = "cli") -> Retried:
    """Put the current outcome's parked replies back and start sending them. Each goes out
    once: a reply is parked only once Zendesk showed it was not delivered (no reply tag on the
    ticket, or the update refused), and a second retry finds nothing parked."""
    problem, run = _owed_run(runtime, ref)
    problem_id = problem.id
    count = reply_rows.retry_failed(runtime.db, run, actor)
    log_event(log, "replies.retried", problem_id=problem_id, tickets=count, actor=actor)
    if count:
        runtime.scheduler.fanout(problem_id)
    return Retried(problem_id, problem.jira_key, run.outcome, count, run.held_reason)


def status(runtime: ReadNeeds, ref: str | int, limit: int = 50) -> Status:
    """Delivery state of the current outcome: counts, and the tickets not answered, with why."""
    problem_id = find_problem_id(runtime.db, ref)
    problem = _problem(runtime.db, problem_id)
    run = load_run(runtime.db, runtime.config, problem_id)
    result = Status(problem_id, problem.jira_key, run.outcome if run else None, None)
    if run is None:
        return result
    result.held_reason = run.held_reason
    record = reply_runs.ensure_run(runtime.db, problem_id, run.outcome)
    result.summary_posted = record.summary_posted_at is not None
    unplanned = reply_reports.unplanned_count(runtime.db, run)
    counts = reply_rows.count_states(runtime.db, run)
    delivered = counts[ReplyState.SENT.value]
    public = run.rendered.public  # an outcome without a public reply leaves internal notes
    result.counts = {
        "sent": delivered if public else 0,
        "notes": 0 if public else delivered,
        "followup": counts[ReplyState.FOLLOWUP.value],
        "pending": counts[ReplyState.PENDING.value] + counts["followup_open"] + unplanned,
        "in_progress": counts[ReplyState.CLAIMED.value],
        "skipped": counts[ReplyState.SKIPPED.value],
        "failed": counts[ReplyState.FAILED.value],
    }
    result.problems = [
        {"ticket_id": t, "state": s.value, "reason": e}
        for t, s, e in reply_reports.unanswered(runtime.db, run, limit)
    ]
    result.followups = [
        {"ticket_id": t, "followup_id": f}
        for t, f in reply_reports.followups_created(runtime.db, run, limit)
    ]
    return result
