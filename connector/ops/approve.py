"""Approving a problem's resolution replies, and sending its parked (failed) ones again, from
the dashboard or the admin API.

The replies fan-out owns both (`connector.sync.replies.approval`): this adds what the web
surfaces need: a missing problem is `ProblemNotFound` (404), one that owes no reply is
`NothingToApprove` (409), and an approval already given changes nothing.
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
    """The problem owes no reply yet (e.g. its issue is not resolved)."""


@dataclass(frozen=True)
class Approval:
    problem_id: int
    changed: bool  # False: it was already approved


def approve(runtime: AppContext, problem_id: int, actor: str = "dashboard") -> Approval:
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            raise ProblemNotFound(problem_id)
    current = reply_preview(runtime, problem_id)
    if current is not None and current.get("outcome") and current.get("approved"):
        log_event(log, "replies.approve.noop", problem_id=problem_id, actor=actor)
        return Approval(problem_id, changed=False)
    try:
        replies.approve(runtime, problem_id, actor=actor)
    except replies.UnknownProblem:
        raise ProblemNotFound(problem_id) from None
    except ConnectorError as exc:
        raise NothingToApprove(str(exc)) from None
    return Approval(problem_id, changed=True)


def retry_replies(runtime: AppContext, problem_id: int, actor: str = "dashboard") -> int:
    """Put the problem's parked replies back and send them; how many (0: none was parked)."""
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            raise ProblemNotFound(problem_id)
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
