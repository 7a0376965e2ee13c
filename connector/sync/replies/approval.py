"""Preview, approve and status of a problem's reply, as plain data for the CLI, the dashboard
and the admin API. A problem is named by its Jira key (FIN-12) or its id."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from connector.errors import ConnectorError
from connector.logs import log_event
from connector.store.models import AuditEntry, Link, Problem, Reply, ReplyState, utcnow
from connector.sync.replies import rows
from connector.sync.replies.plan import ensure_run_record, load_run

if TYPE_CHECKING:
    from connector.sync.ports import AppContext

log = logging.getLogger(__name__)


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def find_problem_id(runtime: AppContext, ref: str | int) -> int:
    text = str(ref).strip()
    with runtime.db.session() as session:
        if text.isdigit() and session.get(Problem, int(text)) is not None:
            return int(text)
        found = session.scalar(select(Problem.id).where(Problem.jira_key == text.upper()))
    if found is None:
        raise UnknownProblem(f"no problem with id or Jira key '{text}'")
    return int(found)


def preview(runtime: AppContext, ref: str | int) -> Preview:
    """The rendered reply and what will happen per ticket; sends nothing."""
    problem_id = find_problem_id(runtime, ref)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        run = load_run(session, runtime.config, problem_id)
        result = Preview(problem_id, problem.jira_key, problem.state.value, None)
        if run is None:
            return result
        record = ensure_run_record(session, problem_id, run.outcome)
        r = run.rendered
        result.outcome, result.held_reason, result.approved = (
            run.outcome,
            run.held_reason,
            record.approved,
        )
        result.public, result.status, result.body, result.tag = r.public, r.status, r.body, r.tag
        result.counts = _will_happen(session, problem_id, run.outcome, r.public, run.closed_policy)
    return result


def _will_happen(
    session: Session, problem_id: int, outcome: str, public: bool, policy: str
) -> dict[str, int]:
    joined = and_(
        Reply.ticket_id == Link.ticket_id,
        Reply.problem_id == problem_id,
        Reply.outcome == outcome,
    )
    found = session.execute(
        select(Reply.state, Reply.followup_ticket_id.is_not(None), Link.ticket_status, func.count())
        .select_from(Link)
        .outerjoin(Reply, joined)
        .where(Link.problem_id == problem_id)
        .group_by(Reply.state, Reply.followup_ticket_id.is_not(None), Link.ticket_status)
    ).all()
    counts = dict.fromkeys(
        ("reply", "followup", "skip", "already_sent", "in_progress", "failed"), 0
    )
    closed_goes = "followup" if public and policy == "followup" else "skip"
    for state, has_followup, ticket_status, n in found:
        if state is None or state == ReplyState.PENDING:
            counts[closed_goes if ticket_status == "closed" else "reply"] += n
        elif state == ReplyState.CLAIMED:
            counts["in_progress"] += n
        elif state == ReplyState.SENT or (state == ReplyState.FOLLOWUP and has_followup):
            counts["already_sent"] += n
        elif state == ReplyState.FOLLOWUP:
            counts["followup"] += n
        elif state == ReplyState.SKIPPED:
            counts["skip"] += n
        else:
            counts["failed"] += n
    return counts


def approve(runtime: AppContext, ref: str | int, actor: str = "cli") -> Preview:
    """Approve the current outcome's reply and start sending it."""
    problem_id = find_problem_id(runtime, ref)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        run = load_run(session, runtime.config, problem_id)
        if run is None:
            raise ConnectorError(
                f"problem {problem.jira_key or problem_id} owes no reply: its issue is not "
                "resolved and no workaround is to be sent"
            )
        record = ensure_run_record(session, problem_id, run.outcome)
        record.approved, record.approved_by, record.approved_at = True, actor, utcnow()
        record.held_reason = None
        session.add(
            AuditEntry(
                problem_id=problem_id,
                action="replies.approved",
                actor=actor,
                detail={"outcome": run.outcome},
            )
        )
    log_event(log, "replies.approved", problem_id=problem_id, outcome=run.outcome, actor=actor)
    runtime.scheduler.fanout(problem_id)
    return preview(runtime, problem_id)


def status(runtime: AppContext, ref: str | int, limit: int = 50) -> Status:
    """Delivery state of the current outcome: counts, and the tickets not answered, with why."""
    problem_id = find_problem_id(runtime, ref)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        run = load_run(session, runtime.config, problem_id)
        result = Status(problem_id, problem.jira_key, run.outcome if run else None, None)
        if run is None:
            return result
        result.held_reason = run.held_reason
        record = ensure_run_record(session, problem_id, run.outcome)
        result.summary_posted = record.summary_posted_at is not None
        unplanned = session.scalar(
            select(func.count())
            .select_from(Link)
            .outerjoin(
                Reply,
                and_(
                    Reply.ticket_id == Link.ticket_id,
                    Reply.problem_id == problem_id,
                    Reply.outcome == run.outcome,
                ),
            )
            .where(Link.problem_id == problem_id, Reply.id.is_(None))
        )
        troubled = session.execute(
            select(Reply.ticket_id, Reply.state, Reply.error)
            .where(
                *rows.of_run(run),
                Reply.state.in_((ReplyState.FAILED, ReplyState.SKIPPED)),
            )
            .order_by(Reply.ticket_id)
            .limit(limit)
        ).all()
        followups = session.execute(
            select(Reply.ticket_id, Reply.followup_ticket_id)
            .where(*rows.of_run(run), Reply.followup_ticket_id.is_not(None))
            .order_by(Reply.ticket_id)
            .limit(limit)
        ).all()
    counts = rows.count_states(runtime, run)
    result.counts = {
        "sent": counts[ReplyState.SENT.value],
        "followup": counts[ReplyState.FOLLOWUP.value],
        "pending": counts[ReplyState.PENDING.value] + counts["followup_open"] + int(unplanned or 0),
        "in_progress": counts[ReplyState.CLAIMED.value],
        "skipped": counts[ReplyState.SKIPPED.value],
        "failed": counts[ReplyState.FAILED.value],
    }
    result.problems = [
        {"ticket_id": t, "state": ReplyState(s).value, "reason": e or ""} for t, s, e in troubled
    ]
    result.followups = [{"ticket_id": t, "followup_id": int(f or 0)} for t, f in followups]
    return result
