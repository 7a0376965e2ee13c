"""Approving a problem's resolution replies, and sending its parked (failed) ones again, from
the dashboard or the admin API.

The replies fan-out owns both (`connector.sync.replies.approval`): this adds what the web
surfaces need: a missing problem is `ProblemNotFound` (404), one that owes no reply is
`NothingToApprove` (409: its issue is not resolved, or every linked ticket has its answer), and
an approval already given changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connector.errors import ConnectorError
from connector.logs import log_event
from connector.store.models import Problem, ProblemState
from connector.sync.replies import approval as replies

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)


class ProblemNotFound(LookupError):
    pass


class NothingToApprove(ValueError):
    """No ticket is owed the reply: the issue is not resolved, or every ticket is answered."""


@dataclass(frozen=True)
class Approval:
    problem_id: int
    changed: bool  # False: it was already approved
    tickets: int  # how many customers' tickets are owed the reply it releases
    note: bool = False  # and an agent's problem ticket its internal note


def approve(runtime: AppContext, problem_id: int, actor: str = "dashboard") -> Approval:
    """Release the held reply; `NothingToApprove` when no ticket is owed it (all answered,
    none linked, or the issue not resolved), so an approval never claims work it did not do."""
    _exists(runtime, problem_id)
    try:
        current = replies.preview(runtime, problem_id)
    except replies.UnknownProblem:
        raise ProblemNotFound(problem_id) from None
    if current.outcome is None:
        raise NothingToApprove(NOT_RESOLVED)
    if not current.owed:
        log_event(log, "replies.approve.nothing_owed", problem_id=problem_id, actor=actor)
        raise NothingToApprove(nothing_owed(current))
    if current.approved:
        log_event(log, "replies.approve.noop", problem_id=problem_id, actor=actor)
        return Approval(problem_id, False, current.customers, bool(current.counts.get("note")))
    try:
        replies.approve(runtime, problem_id, actor=actor)
    except replies.UnknownProblem:
        raise ProblemNotFound(problem_id) from None
    except ConnectorError as exc:
        raise NothingToApprove(str(exc)) from None
    return Approval(problem_id, True, current.customers, bool(current.counts.get("note")))


NOT_RESOLVED = "no reply is owed: the issue is not resolved and no workaround is to be sent"


def nothing_owed(current: replies.Preview) -> str:
    c = current.counts
    answered = c.get("already_sent", 0) + c.get("skip", 0)
    parts = [f"{answered} already answered" if answered else "no ticket waits for it"]
    if c.get("failed"):
        parts.append(f"{c['failed']} failed (retry {'it' if c['failed'] == 1 else 'them'})")
    if c.get("in_progress"):
        parts.append(f"{c['in_progress']} being sent")
    return f"no ticket is owed the {current.outcome} reply: {', '.join(parts)}"


def _exists(runtime: AppContext, problem_id: int) -> None:
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            raise ProblemNotFound(problem_id)


def retry_replies(runtime: AppContext, problem_id: int, actor: str = "dashboard") -> int:
    """Put the problem's parked replies back and send them; how many (0: none was parked)."""
    _exists(runtime, problem_id)
    try:
        return replies.retry_failed(runtime, problem_id, actor=actor).tickets
    except replies.UnknownProblem:
        raise ProblemNotFound(problem_id) from None
    except ConnectorError as exc:
        raise NothingToApprove(str(exc)) from None


def reply_preview(runtime: AppContext, problem_id: int) -> dict[str, Any] | None:
    """The reply the fan-out would send (outcome, body, why held, approved)."""
    try:
        return replies.preview(runtime, problem_id).as_dict()
    except Exception as exc:  # the page still shows everything else
        log_event(log, "replies.preview_failed", level=logging.WARNING, error=type(exc).__name__)
        return None
