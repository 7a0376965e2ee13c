"""The Flask app factory of the Zendesk sandbox: the fake `/api/v2` (basic auth with
`email/token:API_TOKEN`, acting as the user the email names; admin-only endpoints answer 403 to
agents; rate-limit headers, counters, fault injection, Zendesk-shaped errors) and the
unauthenticated control API under `/_sandbox`.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from connector_sandboxes.zendesk import (
    agent_ui,
    apps,
    control,
    fields,
    people,
    search,
    ticket_routes,
    triggers,
    webhooks,
)
from connector_sandboxes.zendesk.limits import NOMINAL_LIMIT
from connector_sandboxes.zendesk.state import ApiError
from connector_sandboxes.zendesk.web import STATE_KEY

if TYPE_CHECKING:
    from connector_sandboxes.zendesk.sandbox import ZendeskSandbox

API_PREFIX = "/api/v2"
log = logging.getLogger(__name__)
ID_SEGMENT = re.compile(r"^(\d+|V3-[0-9a-f]+|01[0-9A-Z]{24})$")
FORBIDDEN = {
    "error": "Forbidden",
    "description": "You do not have access to this page. Please contact the account owner of "
    "this help desk for further help.",
}


class Counters:
    """Requests per endpoint family (`PUT /tickets/update_many`), plus `total` and `throttled`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def family(method: str, path: str) -> str:
    parts = path.removeprefix(API_PREFIX).strip("/").split("/")
    return f"{method} /" + "/".join("{id}" if ID_SEGMENT.match(p) else p for p in parts)


ASKED_PATH = "connector_sandboxes.asked_path"


class StripJsonSuffix:
    """zenpy asks for `tickets/1.json`; route it like `tickets/1`."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        environ[ASKED_PATH] = path  # as the client asked for it: what injected faults match
        if path.startswith(API_PREFIX) and path.endswith(".json"):
            environ["PATH_INFO"] = path.removesuffix(".json")
        return self.wsgi_app(environ, start_response)


def create_app(sandbox: ZendeskSandbox) -> Flask:
    app = Flask("connector_sandboxes.zendesk")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config[STATE_KEY] = sandbox.state
    app.config["ZENDESK_SANDBOX_JOBS"] = sandbox.jobs
    app.config["ZENDESK_SANDBOX_UPDATE_LIMIT"] = sandbox.update_limit
    app.config["ZENDESK_SANDBOX_HANDLE"] = sandbox
    for module in (people, fields, ticket_routes, search, triggers, webhooks, apps):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    app.register_blueprint(control.bp, url_prefix="/_sandbox")
    app.register_blueprint(agent_ui.bp)
    app.wsgi_app = StripJsonSuffix(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def gatekeeper() -> Any:
        if not request.path.startswith(API_PREFIX):
            return None
        sandbox.request_counts.add(family(request.method, request.path))
        sandbox.request_counts.add("total")
        allowed, remaining, reset_in = sandbox.rate.take()
        g.rate = (sandbox.rate.limit or NOMINAL_LIMIT, remaining, reset_in)
        if not allowed:
            body = {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            }
            return jsonify(body), 429, {"Retry-After": str(reset_in)}
        fault = sandbox.faults.take(request.environ.get(ASKED_PATH, request.path))
        if fault is not None:
            return _fault_answer(fault.kind, fault.hang_seconds)
        g.user_id = _authenticated_user(sandbox)
        if g.user_id is None:
            return jsonify({"error": "Couldn't authenticate you"}), 401
        if _admin_only(request.method, request.path) and not _is_admin(sandbox, g.user_id):
            return jsonify(FORBIDDEN), 403
        return None

    @app.after_request
    def rate_headers(response: Any) -> Any:
        rate = g.get("rate")
        if rate is not None:
            limit, remaining, reset_in = rate
            response.headers["X-Rate-Limit"] = str(limit)
            response.headers["X-Rate-Limit-Remaining"] = str(remaining)
            response.headers["ratelimit-limit"] = str(limit)
            response.headers["ratelimit-remaining"] = str(remaining)
            response.headers["ratelimit-reset"] = str(reset_in)
        if response.status_code == 429 and request.path.startswith(API_PREFIX):
            sandbox.request_counts.add("throttled")
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify(exc.body), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code == 404:
            return jsonify({"error": "InvalidEndpoint", "description": "Not found"}), 404
        return jsonify({"error": exc.name, "description": exc.description}), exc.code or 500

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Any:
        log.exception("zendesk sandbox: unhandled error")
        return jsonify({"error": "InternalServerError", "description": str(exc)}), 500

    return app


def _authenticated_user(sandbox: ZendeskSandbox) -> int | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        login, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    email, slash, kind = login.rpartition("/")
    if not slash or kind.lower() != "token":
        return None
    with sandbox.state.lock:
        return sandbox.state.authenticate(email, secret)


def _admin_only(method: str, path: str) -> bool:
    """What the API reference allows to admins only, of what the sandbox serves."""
    path = path.removeprefix(API_PREFIX)
    if path.startswith(("/webhooks", "/apps")):
        return True
    writes = method in ("POST", "PUT", "PATCH", "DELETE")
    return writes and path.startswith(("/ticket_fields", "/organization_fields"))


def _is_admin(sandbox: ZendeskSandbox, user_id: int) -> bool:
    with sandbox.state.lock:
        return bool(sandbox.state.user(user_id)["role"] == "admin")


def _fault_answer(kind: str, hang_seconds: float) -> Any:
    if kind == "timeout":
        time.sleep(hang_seconds)  # the client gives up first; state stays untouched
        return jsonify({"error": "Timeout", "description": "Injected timeout"}), 504
    if kind == "429":
        body = {"error": "APIRateLimitExceeded", "description": "Injected rate limit"}
        return jsonify(body), 429, {"Retry-After": "1"}
    description = "Injected fault"
    return jsonify({"error": "InternalServerError", "description": description}), int(kind)
