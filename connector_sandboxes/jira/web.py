"""Fakes Jira's request plumbing shared by the endpoint modules: which sandbox and REST version
answer, who is calling, JSON bodies, and Jira-shaped error replies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.render import Ctx

if TYPE_CHECKING:
    from connector_sandboxes.jira.sandbox import JiraSandbox

EXTENSION = "jira_sandbox"


def sandbox() -> JiraSandbox:
    return current_app.extensions[EXTENSION]


def ctx() -> Ctx:
    return Ctx(request.host_url.rstrip("/"), getattr(g, "api", "2"), sandbox().state.cloud)


def actor() -> str:
    """The account making the request: the API account or the engineer (see `app`)."""
    return str(g.get("account_id") or sandbox().api_account_id)


def body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, dict):
        raise JiraError(400, ["Unexpected request body: a JSON object is required."])
    return data


def cloud_only() -> None:
    """Answer 404 as Data Center does for an endpoint only Cloud has, and remember the call
    (`JiraSandbox.absent_calls`) so a test can show a client never made one."""
    if not sandbox().state.cloud:
        _absent()


def not_on_data_center() -> None:
    """Answer 404 as Data Center 10 does for the admin webhook resource it replaced
    (`/rest/webhooks/1.0/webhook`; Cloud and Jira 9 keep it), and remember the call."""
    if sandbox().state.deployment_type == "DataCenter":
        _absent()


def data_center_only() -> None:
    """Answer 404 as Cloud and Jira 9 do for Data Center 10's webhook resource."""
    if sandbox().state.deployment_type != "DataCenter":
        _absent()


def _absent() -> None:
    sandbox().record_absent(f"{request.method} {request.path}")
    raise JiraError(404, ["Null for uri: " + request.path])


def jira_error(exc: JiraError) -> ResponseReturnValue:
    return jsonify(exc.body), exc.status


def list_param(name: str) -> list[str] | None:
    """A multi-valued query parameter: repeated (`fields=a&fields=b`) or comma-separated."""
    values = [v for raw in request.args.getlist(name) for v in raw.split(",")]
    return values or None


def int_param(name: str, default: int) -> int:
    raw = request.args.get(name)
    try:
        return default if raw in (None, "") else int(raw)
    except ValueError:
        raise JiraError(400, [f"'{name}' must be a number."]) from None
