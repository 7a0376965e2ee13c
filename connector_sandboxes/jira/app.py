"""Fakes a Jira site's HTTP front door: the Flask app factory with authentication (basic email +
API token, or bearer PAT, of the API account or the engineer, each acting as itself; admin
webhooks only for the API account), per-endpoint counters, injected faults, rate limiting and
Jira-shaped error bodies in front of the endpoint modules."""

from __future__ import annotations

import base64
import binascii
import logging
import time
from typing import TYPE_CHECKING

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from connector_sandboxes.jira import control, field_delete, issues, meta, screens, search, webhooks
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.web import EXTENSION, cloud_only, jira_error, sandbox

if TYPE_CHECKING:
    from connector_sandboxes.jira.sandbox import JiraSandbox

log = logging.getLogger(__name__)
ANONYMOUS_OK = {"/serverInfo"}
WEBHOOK_ADMIN = ("/rest/webhooks/", "/rest/jira-webhook/")
PREFIXES = ("/rest/api/<any('2','3'):v>", "/rest/webhooks/1.0", "/rest/jira-webhook/1.0")


def create_app(sandbox: JiraSandbox) -> Flask:
    app = Flask("jira_sandbox")
    app.extensions[EXTENSION] = sandbox
    blueprints = [meta.bp, issues.bp, screens.bp, field_delete.bp, search.bp]
    blueprints += [webhooks.bp, webhooks.dc_bp]
    for blueprint in (*blueprints, control.bp):
        app.register_blueprint(blueprint)
    app.before_request(_guard)
    app.after_request(_hold_back)
    app.register_error_handler(JiraError, jira_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    return app


def family(method: str, rule: str | None, path: str) -> str:
    """Endpoint family for counters: `POST /issue`, `GET /issue/comment`, `GET /search/jql`."""
    if rule is None:
        return f"{method} {path}"
    for prefix in PREFIXES:
        rule = rule.removeprefix(prefix)
    parts = [p for p in rule.split("/") if p and not p.startswith("<")]
    return f"{method} /" + "/".join(parts)


def _guard() -> ResponseReturnValue | None:
    if request.path.startswith("/_sandbox"):
        return None
    sb = sandbox()
    rule = request.url_rule.rule if request.url_rule else None
    sb.count(family(request.method, rule, request.path))
    if request.path.startswith("/rest/api/3/"):
        cloud_only()  # Data Center has REST v2 only
    fault = sb.faults.pick(request.method, request.path)
    if fault and fault.kind == "timeout":
        g.hold_back = fault.delay
    elif fault:
        status = int(fault.kind)
        headers = {"Retry-After": "1"} if status in (429, 503) else {}
        message = f"Injected sandbox fault ({status})."
        return jsonify(errorMessages=[message], errors={}), status, headers
    account = _authenticate(sb)
    if account is None and not (
        "Authorization" not in request.headers
        and any(request.path.endswith(p) for p in ANONYMOUS_OK)
    ):
        body = {"errorMessages": ["Client must be authenticated to access this resource."]}
        return jsonify({**body, "errors": {}}), 401, {"WWW-Authenticate": 'Basic realm="Jira"'}
    g.account_id = account
    if request.path.startswith(WEBHOOK_ADMIN) and account != sb.api_account_id:
        # Admin webhooks need the Administer Jira permission; only the API account has it here.
        message = "You do not have the permission to manage webhooks."  # wording unconfirmed
        return jsonify(errorMessages=[message], errors={}), 403
    limited = sb.limiter.check()
    if limited:
        return jsonify(errorMessages=["Rate limit exceeded."], errors={}), 429, limited
    return None


def _authenticate(sb: JiraSandbox) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    logins = sb.logins()
    if scheme.lower() == "bearer":
        return next((who for who, _, _, pat in logins if pat and value == pat), None)
    if scheme.lower() == "basic":
        try:
            email, _, token = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        for who, known_email, known_token, _ in logins:
            if email.lower() == known_email.lower() and token == known_token:
                return who
    return None


def _hold_back(response: Response) -> Response:
    delay = g.get("hold_back")
    if delay:
        # The change is already applied: this is the "timed out, but it happened" case.
        time.sleep(delay)
    return response


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    message = exc.description or exc.name
    if exc.code == 404:
        message = "Null for uri: " + request.path
    return jsonify(errorMessages=[message], errors={}), exc.code or 500


def _crash(exc: Exception) -> ResponseReturnValue:
    log.exception("jira sandbox: unhandled error on %s %s", request.method, request.path)
    return jsonify(errorMessages=[f"Internal server error: {exc}"], errors={}), 500
