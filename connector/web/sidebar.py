"""The Zendesk sidebar app's pages and API (`/app/...`), served to the app's iframe.

POST /app/sidebar                      Zendesk's signed first request (form field `token`)
GET  /app/api/tickets/<id>             the ticket's view (202 while its access is checked)
GET  /app/api/problems?q=WORDS         open problems by key or words
POST /app/api/tickets/<id>/actions     {"kind": link|move|unlink|create, ...}: queued, 202
GET  /app/api/actions/<id>             how a queued action went

Trust: the first page verifies Zendesk's RS256 JWT with the app's public key (stored by
`install`) and its audience and expiry, then hands the page a bearer token of its own, short
lived, kept in the page only (cookies in a third-party iframe are blocked). The API takes that
bearer header and JSON bodies only, so a cross-site form or a cookie cannot act (no CSRF). The
page may be framed by the Zendesk account only (`frame-ancestors`). Like every request of the
web tier, nothing here calls Zendesk or Jira: reads come from the database; whether the agent
may see the ticket is checked by the worker (queued here), and actions are stored and queued.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from connector.inbound_model import SignatureRejected
from connector.logs import log_event
from connector.ops import sidebar as views
from connector.store import sidebar as app_rows
from connector.store.events_repo import store_event
from connector.store.models import MAX_ROW_ID, AppActionState
from connector.zendesk import signed_url

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)
SESSION_TTL = timedelta(minutes=30)
ACCESS_TTL = timedelta(minutes=5)  # a decision older than this is checked again
CHECK_WAIT = timedelta(minutes=1)  # a check still unanswered after this is asked again
SOURCE = "app"
KINDS = ("link", "move", "unlink", "create")
MAX_TICKET_ID = 2**63  # Zendesk ids are 64-bit


def build_sidebar(runtime: AppContext) -> Blueprint:
    bp = Blueprint(
        "sidebar",
        __name__,
        url_prefix="/app",
        static_folder="static",
        static_url_path="/static",
        template_folder="templates",
    )

    @bp.after_request
    def harden(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = _csp(runtime)
        return response

    @bp.post("/sidebar")
    def first_page() -> Any:
        install = app_rows.install_of(runtime.db, _zendesk_url(runtime))
        if install is None or not install.public_key or install.installation_id is None:
            return _page("The app is not installed: run `connector install`.", 503)
        try:
            caller = signed_url.verify(
                request.form.get("token", ""),
                install.public_key,
                _zendesk_url(runtime),
                install.installation_id,
                datetime.now(UTC),
            )
        except SignatureRejected as exc:
            log_event(log, "app.token_rejected", level=logging.WARNING, reason=str(exc))
            return _page("Open this app from a Zendesk ticket.", 401)
        token = app_rows.open_session(runtime.db, caller.user_id, datetime.now(UTC), SESSION_TTL)
        log_event(log, "app.session_opened", user_id=caller.user_id, location=caller.location)
        return render_template("sidebar.html", session_token=token)

    @bp.get("/sidebar")
    def not_signed() -> Any:
        return _page("Open this app from a Zendesk ticket.", 401)

    @bp.get("/api/tickets/<int:ticket_id>")
    @_agent(runtime)
    def ticket_view(user_id: int, ticket_id: int) -> Any:
        denied = _access(runtime, user_id, ticket_id)
        if denied is not None:
            return denied
        with runtime.db.session() as session:
            return jsonify(views.sidebar_view(runtime, session, ticket_id).to_json())

    @bp.get("/api/problems")
    @_agent(runtime)
    def problem_search(user_id: int) -> Any:
        with runtime.db.session() as session:
            found = views.search_problems(session, request.args.get("q", "")[:200])
        return jsonify({"problems": found})

    @bp.post("/api/tickets/<int:ticket_id>/actions")
    @_agent(runtime)
    def queue_action(user_id: int, ticket_id: int) -> Any:
        if not 0 < ticket_id < MAX_TICKET_ID:
            return jsonify({"error": "not found"}), 404
        if not request.is_json:
            return jsonify({"error": "send JSON"}), 415
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("kind") not in KINDS:
            return jsonify({"error": f"kind must be one of {', '.join(KINDS)}"}), 400
        kind = str(body["kind"])
        problem_id = body.get("problem_id")
        team = body.get("team")
        if kind in ("link", "move") and not _row_id(problem_id):
            return jsonify({"error": "problem_id is required"}), 400
        if kind == "create" and not (isinstance(team, str) and team in runtime.config.teams):
            return jsonify({"error": "team must be one of the configured teams"}), 400
        if _refused(runtime, user_id, ticket_id):  # the worker checks again before acting
            return jsonify({"error": "You cannot see this ticket.", "state": "refused"}), 403
        action_id = app_rows.add_action(
            runtime.db,
            ticket_id,
            user_id,
            kind,
            problem_id if kind in ("link", "move") and isinstance(problem_id, int) else None,
            str(team) if kind == "create" else None,
        )
        try:
            _enqueue(runtime, "app.action", ticket_id, {"action_id": action_id})
        except SQLAlchemyError:  # not queued: say so on the row rather than leave it waiting
            with runtime.db.session() as session:
                failed, now = AppActionState.FAILED, datetime.now(UTC)
                app_rows.finish_action(session, action_id, failed, "Not queued: try again.", now)
            raise
        log_event(log, "app.action_queued", action=kind, ticket_id=ticket_id, user_id=user_id)
        return jsonify({"action_id": action_id, "state": AppActionState.QUEUED.value}), 202

    @bp.get("/api/actions/<int:action_id>")
    @_agent(runtime)
    def action_state(user_id: int, action_id: int) -> Any:
        if not _row_id(action_id):
            return jsonify({"error": "not found"}), 404
        with runtime.db.session() as session:
            row = app_rows.action(session, action_id)
            if row is None or row.user_id != user_id:
                return jsonify({"error": "not found"}), 404
            return jsonify({"id": row.id, "state": row.state.value, "message": row.message})

    @bp.errorhandler(SQLAlchemyError)
    def unavailable(exc: SQLAlchemyError) -> Any:
        log_event(log, "app.unavailable", level=logging.ERROR, error=type(exc).__name__)
        return jsonify({"error": "database unavailable"}), 503

    return bp


def _agent(runtime: AppContext) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view runs for the agent of a live bearer session, or answers 401."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        def checked(**kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            user_id = None
            if scheme.lower() == "bearer" and token.strip():
                user_id = app_rows.session_user(runtime.db, token.strip(), datetime.now(UTC))
            if user_id is None:
                return jsonify({"error": "session missing or expired: reopen the ticket"}), 401
            return view(user_id, **kwargs)

        checked.__name__ = view.__name__
        return checked

    return wrap


def _access(runtime: AppContext, user_id: int, ticket_id: int) -> Any | None:
    """None when the agent may see the ticket; else the answer (202 checking, 403 refused)."""
    if not 0 < ticket_id < MAX_TICKET_ID:
        return jsonify({"error": "not found"}), 404
    now = datetime.now(UTC)
    try:
        with runtime.db.session() as session:
            row = app_rows.access_of(session, user_id, ticket_id)
            if row is not None and row.checked_at is not None and now - row.checked_at < ACCESS_TTL:
                if row.allowed:
                    return None
                return jsonify({"error": "You cannot see this ticket.", "state": "refused"}), 403
            wanted = app_rows.request_access_check(session, user_id, ticket_id, now, CHECK_WAIT)
    except IntegrityError:  # another process asked for the same check at the same moment
        wanted = False
    if wanted:
        _enqueue(runtime, "app.access", ticket_id, {"user_id": user_id})
    return jsonify({"state": "checking"}), 202


def _refused(runtime: AppContext, user_id: int, ticket_id: int) -> bool:
    with runtime.db.session() as session:
        row = app_rows.access_of(session, user_id, ticket_id)
        return row is not None and row.allowed is False


def _enqueue(runtime: AppContext, kind: str, ticket_id: int, payload: dict[str, Any]) -> None:
    delivery = uuid.uuid4().hex  # every request is its own event, never a duplicate
    store_event(
        runtime.db,
        SOURCE,
        delivery,
        hashlib.sha256(delivery.encode()).hexdigest(),
        kind,
        str(ticket_id),
        {"ticket_id": ticket_id, **payload},
    )
    runtime.scheduler.process_events()


def _row_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def _zendesk_url(runtime: AppContext) -> str:
    return str(runtime.settings.zendesk_url).rstrip("/")


def _csp(runtime: AppContext) -> str:
    parts = urlsplit(_zendesk_url(runtime))
    zendesk = f"{parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {zendesk}"
    )


def _page(message: str, status: int) -> Any:
    return render_template("sidebar_message.html", message=message), status
