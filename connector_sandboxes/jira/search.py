"""Fakes Jira's issue search: Cloud's `/search/jql` (bounded JQL, `nextPageToken` paging,
`fields` defaulting to id only), the old `/search` (410 Gone on Cloud, offset paging on Data
Center) and `/search/approximate-count`."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira import jql, render
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.state import Issue
from connector_sandboxes.jira.web import cloud_only, ctx, sandbox

bp = Blueprint("jira_search", __name__, url_prefix="/rest/api/<any('2','3'):v>")

UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


@bp.url_value_preprocessor
def _pull_version(endpoint: str | None, values: dict | None) -> None:
    g.api = (values or {}).pop("v", "2")


def _params() -> dict[str, Any]:
    """GET query parameters or a POST body, with list parameters as lists."""
    if request.method == "POST":
        data = request.get_json(silent=True, force=True)
        if not isinstance(data, dict):
            raise JiraError(400, ["Unexpected request body: a JSON object is required."])
        return data
    out: dict[str, Any] = dict(request.args.items())
    for name in ("fields", "properties", "reconcileIssues"):
        values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
        out[name] = values or None
    return out


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return value.split(",") if isinstance(value, str) else [str(v) for v in value]


def _int(value: Any, default: int, name: str) -> int:
    try:
        return default if value in (None, "") else int(value)
    except (TypeError, ValueError):
        raise JiraError(400, [f"'{name}' must be a number."]) from None


def _run(query_text: str) -> list[Issue]:
    state = sandbox().state
    query = jql.parse(query_text, state.custom_fields)
    return query.sort([i for i in state.issues.values() if query.matches(state, i)])


def _beans(issues: list[Issue], params: dict[str, Any], default_fields: str) -> list[dict]:
    state = sandbox().state
    fields = _as_list(params.get("fields"))
    properties = _as_list(params.get("properties"))
    expand = params.get("expand") or ""
    expand = ",".join(expand) if isinstance(expand, list) else expand
    return [
        render.issue_bean(ctx(), state, i, fields, expand, properties, default_fields)
        for i in issues
    ]


@bp.route("/search/jql", methods=["GET", "POST"])
def search_jql() -> ResponseReturnValue:
    sb = sandbox()
    cloud_only()
    params = _params()
    offset = _decode_token(params.get("nextPageToken"))
    fields = _as_list(params.get("fields")) or ["id"]
    id_only = set(fields) <= {"id", "key"}
    limit = min(max(_int(params.get("maxResults"), 50, "maxResults"), 1), 5000 if id_only else 100)
    with sb.state.lock:
        query = jql.parse(params.get("jql") or "", sb.state.custom_fields)
        if not query.bounded:
            raise JiraError(400, [UNBOUNDED])
        found = _run(params.get("jql") or "")
        page = found[offset : offset + limit]
        out: dict[str, Any] = {"issues": _beans(page, {**params, "fields": fields}, "id")}
    if offset + limit < len(found):
        out["nextPageToken"] = _encode_token(offset + limit)
    out["isLast"] = "nextPageToken" not in out
    return jsonify(out)


@bp.route("/search", methods=["GET", "POST"])
def search_old() -> ResponseReturnValue:
    sb = sandbox()
    if sb.state.deployment_type == "Cloud":
        raise JiraError(410, [GONE])
    params = _params()
    start = _int(params.get("startAt"), 0, "startAt")
    limit = min(_int(params.get("maxResults"), 50, "maxResults"), 1000)
    with sb.state.lock:
        found = _run(params.get("jql") or "")
        page = found[start : start + limit]
        issues = _beans(page, params, "*navigable")
    return jsonify(
        expand="schema,names", startAt=start, maxResults=limit, total=len(found), issues=issues
    )


@bp.post("/search/approximate-count")
def approximate_count() -> ResponseReturnValue:
    sb = sandbox()
    cloud_only()
    params = _params()
    with sb.state.lock:
        if not jql.parse(params.get("jql") or "", sb.state.custom_fields).bounded:
            raise JiraError(400, [UNBOUNDED])
        return jsonify(count=len(_run(params.get("jql") or "")))


def _encode_token(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: Any) -> int:
    if not token:
        return 0
    try:
        padded = str(token) + "=" * (-len(str(token)) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
        return offset
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise JiraError(400, ["The provided next page token is invalid or expired."]) from None
