"""The sandbox's own control API under `/_sandbox/...` (JSON, no auth, never rate limited): the
`JiraSandbox` Python interface for tests and demos that run in another process."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.web import sandbox

bp = Blueprint("jira_control", __name__, url_prefix="/_sandbox")


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


@bp.get("/info")
def info() -> ResponseReturnValue:
    sb = sandbox()
    return jsonify(
        url=sb.url,
        deploymentType=sb.state.deployment_type,
        email=sb.email,
        apiAccountId=sb.api_account_id,
        humanAccountId=sb.human_account_id,
        accounts=sb.accounts(),
        projects=list(sb.state.projects),
    )


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    sandbox().reset()
    return "", 204


@bp.get("/counters")
def counters() -> ResponseReturnValue:
    sb = sandbox()
    return jsonify(counters=sb.counters, total=sb.total_calls())


@bp.get("/issues")
def issue_keys() -> ResponseReturnValue:
    return jsonify(keys=sandbox().issue_keys())


@bp.get("/issues/<ref>")
def issue(ref: str) -> ResponseReturnValue:
    sb = sandbox()
    data = sb.issue(ref)
    data.update(comments=sb.comments(ref), properties=sb.properties(ref))
    data["remoteLinks"] = sb.remote_links(ref)
    return jsonify(data)


@bp.post("/issues")
def human_create() -> ResponseReturnValue:
    data = _json()
    fields = data.get("fields") or {}
    key = sandbox().human_create(
        data["project"], data["summary"], data.get("issuetype", "Task"), **fields
    )
    return jsonify(key=key), 201


@bp.post("/issues/<ref>/transition")
def human_transition(ref: str) -> ResponseReturnValue:
    data = _json()
    sandbox().human_transition(ref, data.get("to_status", "Done"), data.get("resolution"))
    return "", 204


@bp.post("/issues/<ref>/update")
def human_update(ref: str) -> ResponseReturnValue:
    sandbox().human_update(ref, **(_json().get("fields") or {}))
    return "", 204


@bp.post("/issues/<ref>/comment")
def human_comment(ref: str) -> ResponseReturnValue:
    return jsonify(sandbox().human_comment(ref, str(_json().get("body", "")))), 201


@bp.post("/issues/<ref>/move")
def move(ref: str) -> ResponseReturnValue:
    return jsonify(key=sandbox().move_issue(ref, str(_json().get("to_project", "")))), 200


@bp.post("/issues/<ref>/delete")
def delete(ref: str) -> ResponseReturnValue:
    sandbox().delete_issue(ref)
    return "", 204


@bp.post("/issues/<ref>/link-duplicate")
def link_duplicate(ref: str) -> ResponseReturnValue:
    sandbox().link_duplicate(ref, str(_json().get("of", "")))
    return "", 204


@bp.post("/faults")
def inject_faults() -> ResponseReturnValue:
    data = _json()
    allowed = {"count", "fraction", "kind", "paths", "delay"}
    try:
        sandbox().inject_faults(**{k: v for k, v in data.items() if k in allowed})
    except ValueError as exc:
        raise JiraError(400, [str(exc)]) from None
    return "", 204


@bp.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    sandbox().clear_faults()
    return "", 204


@bp.post("/webhook-knobs")
def webhook_knobs() -> ResponseReturnValue:
    try:
        return jsonify(sandbox().webhook_knobs(**_json()))
    except ValueError as exc:
        raise JiraError(400, [str(exc)]) from None


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    return jsonify(deliveries=sandbox().deliveries)


@bp.post("/deliveries/wait")
def wait_for_deliveries() -> ResponseReturnValue:
    idle = sandbox().wait_for_deliveries(float(_json().get("timeout", 10)))
    return jsonify(idle=idle), 200 if idle else 504


@bp.get("/fields/<name>")
def field_id(name: str) -> ResponseReturnValue:
    try:
        return jsonify(id=sandbox().field_id(name))
    except KeyError as exc:
        raise JiraError(404, [str(exc)]) from None


@bp.post("/rate-limit")
def rate_limit() -> ResponseReturnValue:
    data = _json()
    sandbox().set_rate_limit(data.get("limit"), data.get("window_seconds"))
    return "", 204


@bp.post("/clock")
def clock() -> ResponseReturnValue:
    sandbox().advance_clock(float(_json().get("advance_seconds", 0)))
    return "", 204
