"""Approving a problem's resolution replies from the dashboard or the admin API.

The replies fan-out owns approval when it is installed (`connector.sync.replies.approval`);
until then this sets the flag itself, records it on the timeline and triggers the fan-out
task when one is registered. Either way the result is the same: approved once, audited once.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connector.errors import ConnectorError
from connector.logs import log_event
from connector.store.models import AuditEntry, Problem, ProblemState

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)
AUDIT_ACTION = "replies.approved"
FANOUT_TASK = "fanout"


class ProblemNotFound(LookupError):
    pass


class NothingToApprove(ValueError):
    """The problem owes no reply yet (e.g. its issue is not resolved)."""


@dataclass(frozen=True)
class Approval:
    problem_id: int
    changed: bool  # False: it was already approved


def approve(runtime: Runtime, problem_id: int, actor: str = "dashboard") -> Approval:
    delegate = _replies_module()
    if delegate is not None:
        return _approve_with_fanout(runtime, delegate, problem_id, actor)
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            raise ProblemNotFound(problem_id)
        if problem.replies_approved:
            log_event(log, "replies.approve.noop", problem_id=problem_id, actor=actor)
            return Approval(problem_id, changed=False)
        problem.replies_approved = True
        session.add(
            AuditEntry(
                problem_id=problem_id, action=AUDIT_ACTION, actor=actor, detail={"via": actor}
            )
        )
    _trigger_fanout(runtime, problem_id)
    log_event(log, "replies.approved", problem_id=problem_id, actor=actor)
    return Approval(problem_id, changed=True)


def reply_preview(runtime: Runtime, problem_id: int) -> dict[str, Any] | None:
    """The reply the fan-out would send (outcome, body, why held, approved), when it knows."""
    module = _replies_module()
    if module is None or not hasattr(module, "preview"):
        return None
    try:
        data = module.preview(runtime, problem_id)
        return dict(data.as_dict() if hasattr(data, "as_dict") else data)
    except Exception as exc:  # the page still shows everything else
        log_event(log, "replies.preview_failed", level=logging.WARNING, error=type(exc).__name__)
        return None


def _approve_with_fanout(runtime: Runtime, module: Any, problem_id: int, actor: str) -> Approval:
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            raise ProblemNotFound(problem_id)
    current = reply_preview(runtime, problem_id)
    if current is not None and current.get("outcome") and current.get("approved"):
        log_event(log, "replies.approve.noop", problem_id=problem_id, actor=actor)
        return Approval(problem_id, changed=False)
    kwargs = {"actor": actor} if "actor" in inspect.signature(module.approve).parameters else {}
    try:
        module.approve(runtime, problem_id, **kwargs)
    except ConnectorError as exc:
        if type(exc).__name__ == "UnknownProblem":
            raise ProblemNotFound(problem_id) from None
        raise NothingToApprove(str(exc)) from None
    return Approval(problem_id, changed=True)


def _replies_module() -> Any:
    try:
        module = importlib.import_module("connector.sync.replies.approval")
    except ImportError:
        return None
    return module if hasattr(module, "approve") else None


def _trigger_fanout(runtime: Runtime, problem_id: int) -> None:
    try:
        tasks: dict[str, Any] = getattr(runtime.huey, "connector_tasks", {}) or {}
        task = tasks.get(FANOUT_TASK)
        if task is None:
            return
        params = inspect.signature(getattr(task, "func", task)).parameters
        task(problem_id) if params else task()
    except Exception as exc:  # approval is stored; the periodic reconcile picks the work up
        log_event(
            log, "replies.approve.enqueue_failed", level=logging.WARNING, error=type(exc).__name__
        )
