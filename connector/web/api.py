"""The admin API under `/api/` (JSON), backing the dashboard and scripts. Same admin token.

GET  /api/problems?state=open|resolved|all&team=KEY&limit=N
GET  /api/problems/<id>                   links, audit timeline, replies summary
POST /api/problems/<id>/approve           approve the resolution replies
POST /api/problems/<id>/replies/retry     send the parked (failed) replies again, once each
GET  /api/status                          queue depth, last deliveries, counts, failures
POST /api/events/retry                    {"ids": [..]} or {"all": true}: failed events back
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request

from connector.logs import log_event
from connector.ops import queries
from connector.ops.approve import (
    NothingToApprove,
    ProblemNotFound,
    approve,
    reply_preview,
    retry_replies,
)
from connector.ops.events import retry_failed_events
from connector.ops.problem_detail import problem_detail
from connector.store.models import MAX_ROW_ID as MAX_ID
from connector.web import admin_auth

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)
MAX_LIMIT = 1000


from connector.ops.proposals import (  # noqa: E402
    BadDecision,
    ProposalDecided,
    ProposalNotFound,
    accept,
    dismiss,
    list_proposals,
)


def build_api(runtime: AppContext) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.before_request
    def guard() -> Any:
        if not admin_auth.enabled(runtime):
            return _error(404, "disabled", admin_auth.DISABLED)
        if not admin_auth.authenticated(runtime):
            return _error(
                401,
                "unauthorized",
                "send `Authorization: Bearer <CONNECTOR_ADMIN_TOKEN>` or log in on the dashboard",
            )
        if request.method == "POST" and not admin_auth.csrf_ok(runtime):  # every change
            log_event(log, "api.csrf_rejected", level=logging.WARNING, path=request.path)
            return _error(403, "csrf", f"send the session's CSRF token in {admin_auth.CSRF_HEADER}")
        return None

    @bp.after_request
    def no_store(response: Any) -> Any:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @bp.get("/problems")
    def problems() -> Any:
        state = request.args.get("state", "open")
        if state not in queries.STATES:
            return _error(400, "bad_request", f"state must be one of: {', '.join(queries.STATES)}")
        try:
            limit = min(int(request.args.get("limit", 500)), MAX_LIMIT)
        except ValueError:
            return _error(400, "bad_request", "limit must be a number")
        team = request.args.get("team") or None
        found = queries.list_problems(runtime, state, team=team, limit=max(limit, 1))
        return jsonify(problems=[p.to_json() for p in found], count=len(found))

    @bp.get(f"/problems/<int(max={MAX_ID}):problem_id>")
    def problem(problem_id: int) -> Any:
        detail = problem_detail(runtime, problem_id)
        if detail is None:
            return _error(404, "not_found", f"no problem {problem_id}")
        return jsonify({**detail.to_json(), "reply": reply_preview(runtime, problem_id)})

    @bp.post(f"/problems/<int(max={MAX_ID}):problem_id>/approve")
    def approve_replies(problem_id: int) -> Any:
        try:
            result = approve(runtime, problem_id, actor="api")
        except ProblemNotFound:
            return _error(404, "not_found", f"no problem {problem_id}")
        except NothingToApprove as exc:
            return _error(409, "nothing_to_approve", str(exc))
        return jsonify(
            problem_id=problem_id, approved=True, changed=result.changed, tickets=result.tickets
        )

    @bp.post(f"/problems/<int(max={MAX_ID}):problem_id>/replies/retry")
    def retry_parked_replies(problem_id: int) -> Any:
        try:
            count = retry_replies(runtime, problem_id, actor="api")
        except ProblemNotFound:
            return _error(404, "not_found", f"no problem {problem_id}")
        except NothingToApprove as exc:
            return _error(409, "no_reply_owed", str(exc))
        return jsonify(problem_id=problem_id, retried=count)

    @bp.get("/proposals")
    def proposals() -> Any:
        found = list_proposals(runtime)
        return jsonify(proposals=[p.as_dict() for p in found], count=len(found))

    @bp.post(f"/proposals/<int(max={MAX_ID}):proposal_id>/accept")
    def accept_proposal(proposal_id: int) -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("summary"), str):
            return _error(400, "bad_request", 'send {"summary": "...", "team": "billing"}')
        team = body.get("team")
        if team is not None and not isinstance(team, str):
            return _error(400, "bad_request", "team must be a team key")
        try:
            chosen = accept(runtime, proposal_id, team, body["summary"], actor="api")
        except ProposalNotFound:
            return _error(404, "not_found", f"no proposal {proposal_id}")
        except ProposalDecided as exc:
            return _error(409, "decided", str(exc))
        except BadDecision as exc:
            return _error(400, "bad_request", str(exc))
        return jsonify(proposal_id=proposal_id, state="accepted", team=chosen), 202

    @bp.post(f"/proposals/<int(max={MAX_ID}):proposal_id>/dismiss")
    def dismiss_proposal(proposal_id: int) -> Any:
        try:
            dismiss(runtime, proposal_id, actor="api")
        except ProposalNotFound:
            return _error(404, "not_found", f"no proposal {proposal_id}")
        except ProposalDecided as exc:
            return _error(409, "decided", str(exc))
        return jsonify(proposal_id=proposal_id, state="dismissed")

    @bp.get("/status")
    def status() -> Any:
        return jsonify(queries.status(runtime))

    @bp.post("/events/retry")
    def retry_events() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "bad_request", 'send {"ids": [event ids]} or {"all": true}')
        ids, retry_all = body.get("ids"), body.get("all") is True
        valid_ids = (
            isinstance(ids, list) and ids and all(type(i) is int and 0 < i <= MAX_ID for i in ids)
        )
        if retry_all == bool(valid_ids) or (ids is not None and not valid_ids):
            return _error(400, "bad_request", 'send {"ids": [event ids]} or {"all": true}')
        retried = retry_failed_events(runtime, None if retry_all else ids, actor="api")
        return jsonify(retried=retried, count=len(retried))

    @bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(_rest: str) -> Any:
        return _error(404, "not_found", "no such endpoint")

    @bp.errorhandler(405)
    def not_allowed(_exc: Exception) -> Any:
        return _error(405, "method_not_allowed", f"{request.method} is not allowed here")

    return bp


def _error(status: int, code: str, message: str) -> Any:
    return jsonify(error=code, message=message), status
