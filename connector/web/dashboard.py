"""The dashboard: server-rendered pages over the same read-only queries as the admin API.

`/` open problems by impact, `/resolved`, `/problems/<id>` (links, timeline, reply fan-out,
approve), `/login`. Admin token required (see connector.web.admin_auth).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

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
from connector.store.models import utcnow
from connector.web import admin_auth

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)
PUBLIC_ENDPOINTS = {"dashboard.login", "dashboard.static"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


from connector.ops.proposals import (  # noqa: E402
    BadDecision,
    ProposalDecided,
    ProposalNotFound,
    accept,
    dismiss,
    list_proposals,
)


def build_dashboard(runtime: AppContext) -> Blueprint:
    bp = Blueprint(
        "dashboard",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/assets",
    )
    bp.record_once(lambda state: admin_auth.configure_sessions(state.app, runtime))

    @bp.before_request
    def guard() -> Any:
        if not admin_auth.enabled(runtime):
            return _page(
                "message.html", 404, title="Dashboard disabled", message=admin_auth.DISABLED
            )
        if request.endpoint == "dashboard.static":
            return None
        token = request.args.get("token")
        if token is not None:
            return _login_from_query(runtime, token)
        if request.endpoint in PUBLIC_ENDPOINTS or admin_auth.authenticated(runtime):
            return None
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))

    @bp.after_request
    def harden(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @bp.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "ago": ago,
            "count": count,
            "duration": duration,
            "when": when,
            "csrf_token": admin_auth.csrf_token,
            "signed_in": admin_auth.session_ok(),
        }

    @bp.get("/")
    def index() -> Any:
        team = request.args.get("team") or None
        problems = queries.list_problems(runtime, "open", team=team)
        status = queries.status(runtime)
        failed = sum(n for name, n in status["events"].items() if name.endswith(".failed"))
        return render_template(
            "problems.html",
            problems=problems,
            status=status,
            deliveries=queries.last_deliveries(runtime.db),
            failed_events=failed,
            teams=_teams(runtime),
            team=team,
        )

    @bp.get("/resolved")
    def resolved() -> Any:
        team = request.args.get("team") or None
        problems = queries.list_problems(runtime, "resolved", team=team)
        return render_template("resolved.html", problems=problems, teams=_teams(runtime), team=team)

    @bp.get(f"/problems/<int(max={MAX_ID}):problem_id>")
    def problem(problem_id: int) -> Any:
        detail = problem_detail(runtime, problem_id)
        if detail is None:
            return _page("message.html", 404, title="Not found", message="No such problem.")
        return render_template(
            "problem.html",
            d=detail,
            p=detail.problem,
            reply=reply_preview(runtime, problem_id),
            require_approval=runtime.config.replies.require_approval,
        )

    @bp.post(f"/problems/<int(max={MAX_ID}):problem_id>/approve")
    def approve_replies(problem_id: int) -> Any:
        _require_csrf(runtime, problem_id=problem_id)
        try:
            result = approve(runtime, problem_id, actor="dashboard")
        except ProblemNotFound:
            return _page("message.html", 404, title="Not found", message="No such problem.")
        except NothingToApprove as exc:
            flash(f"Nothing to approve: {exc}", "error")
            return redirect(url_for("dashboard.problem", problem_id=problem_id), code=303)
        owed = f"the reply goes to {count(result.tickets, 'ticket')}" if result.tickets else ""
        if result.note:
            owed += (" and " if owed else "") + "the problem ticket gets an internal note"
        flash(f"Approved: {owed}." if result.changed else f"Already approved: {owed}.")
        return redirect(url_for("dashboard.problem", problem_id=problem_id), code=303)

    @bp.post(f"/problems/<int(max={MAX_ID}):problem_id>/replies/retry")
    def retry_parked_replies(problem_id: int) -> Any:
        _require_csrf(runtime, problem_id=problem_id)
        try:
            retried = retry_replies(runtime, problem_id, actor="dashboard")
        except ProblemNotFound:
            return _page("message.html", 404, title="Not found", message="No such problem.")
        except NothingToApprove as exc:
            flash(f"Nothing to retry: {exc}", "error")
            return redirect(url_for("dashboard.problem", problem_id=problem_id), code=303)
        flash(
            f"{count(retried, 'failed reply', 'failed replies')} back in the queue."
            if retried
            else "No failed reply to retry."
        )
        return redirect(url_for("dashboard.problem", problem_id=problem_id), code=303)

    @bp.post("/events/retry")
    def retry_parked_events() -> Any:
        _require_csrf(runtime, action="events")
        retried = len(retry_failed_events(runtime, None, actor="dashboard"))
        flash(
            f"{count(retried, 'failed event')} back in the queue."
            if retried
            else "No failed event to retry."
        )
        return redirect(url_for("dashboard.index"), code=303)

    @bp.get("/proposals")
    def proposals() -> Any:
        return render_template(
            "proposals.html",
            proposals=list_proposals(runtime),
            teams=_teams(runtime),
            prefill=runtime.config.zendesk.include_personal_data,
        )

    @bp.post(f"/proposals/<int(max={MAX_ID}):proposal_id>/accept")
    def accept_proposal(proposal_id: int) -> Any:
        _require_csrf(runtime, proposal_id=proposal_id)
        try:
            team = accept(
                runtime,
                proposal_id,
                request.form.get("team") or None,
                request.form.get("summary", ""),
                actor="dashboard",
            )
        except ProposalNotFound:
            return _page("message.html", 404, title="Not found", message="No such proposal.")
        except (ProposalDecided, BadDecision) as exc:
            flash(f"Not accepted: {exc}.", "error")
            return redirect(url_for("dashboard.proposals"), code=303)
        name = _teams(runtime).get(team, team)
        flash(
            f"Accepted: the worker creates the Jira issue for {name} and links the tickets; "
            "the problem appears under Open problems."
        )
        return redirect(url_for("dashboard.proposals"), code=303)

    @bp.post(f"/proposals/<int(max={MAX_ID}):proposal_id>/dismiss")
    def dismiss_proposal(proposal_id: int) -> Any:
        _require_csrf(runtime, proposal_id=proposal_id)
        try:
            dismiss(runtime, proposal_id, actor="dashboard")
        except ProposalNotFound:
            return _page("message.html", 404, title="Not found", message="No such proposal.")
        except ProposalDecided as exc:
            flash(f"Not dismissed: {exc}.", "error")
            return redirect(url_for("dashboard.proposals"), code=303)
        flash("Dismissed: these tickets are not proposed again.")
        return redirect(url_for("dashboard.proposals"), code=303)

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        target = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("login.html", next=target, error=None)
        if admin_auth.token_matches(runtime, request.form.get("token")):
            admin_auth.log_in()
            log_event(log, "dashboard.login", via="form")
            return redirect(target, code=303)
        log_event(log, "dashboard.login_failed", level=logging.WARNING, via="form")
        return _page("login.html", 401, next=target, error="That token is not valid.")

    @bp.post("/logout")
    def logout() -> Any:
        if admin_auth.csrf_ok(runtime):
            admin_auth.log_out()
        return redirect(url_for("dashboard.login"), code=303)

    return bp


def _login_from_query(runtime: AppContext, token: str) -> BaseResponse:
    """`?token=` logs in and redirects to the same page without it (out of history and logs)."""
    args = {k: v for k, v in request.args.items(multi=True) if k != "token"}
    clean = request.path + (f"?{urlencode(args)}" if args else "")
    if not admin_auth.token_matches(runtime, token):
        log_event(log, "dashboard.login_failed", level=logging.WARNING, via="query")
        return _page("login.html", 401, next=_safe_next(clean), error="That token is not valid.")
    admin_auth.log_in()
    log_event(log, "dashboard.login", via="query")
    return redirect(clean, code=303)


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a fresh login to another site. Browsers drop tabs and
    line breaks from URLs (`/\t/evil.com` is `//evil.com` to them), so a target holding any
    control character or space is refused, not cleaned."""
    if not target or not all(_local_path(t) for t in (target, unquote(target))):
        return "/"  # judged as written and as decoded: `/%09/evil.com` is refused too
    return target


def _local_path(target: str) -> bool:
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)
    )


def _require_csrf(runtime: AppContext, **context: Any) -> None:
    """Every change a page form makes carries the session's CSRF token, or is refused (400)."""
    if not admin_auth.csrf_ok(runtime):
        log_event(log, "dashboard.csrf_rejected", level=logging.WARNING, **context)
        abort(400, "missing or wrong CSRF token: reload the page and try again")


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _teams(runtime: AppContext) -> dict[str, str]:
    return {key: team.name or key for key, team in runtime.config.teams.items()}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 ticket`, `12 tickets` (`plural` where adding an s is wrong: `failed replies`)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return duration(utcnow() - moment)


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(max(delta.total_seconds(), 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def when(moment: datetime | date | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()
