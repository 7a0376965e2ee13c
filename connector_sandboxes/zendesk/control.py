"""The sandbox's control API under `/_sandbox` (JSON, no auth, not counted, never faulted): what
the Python handle can do, for another process (benchmarks, users of `connector sandbox zendesk`).

    GET  /_sandbox                      account summary, the logins (`accounts`) and user ids
    POST /_sandbox/reset                back to the start-up state
    GET  /_sandbox/counters             requests per endpoint family, `total`, `throttled`
    GET  /_sandbox/tickets[/ID]         tickets (with comments when one is asked for)
    GET  /_sandbox/tickets/ID/comments
    POST /_sandbox/tickets/ID/close     closed as Zendesk's auto-close would
    POST /_sandbox/agent/tickets        create a ticket as a human agent (body: ticket fields)
    PUT  /_sandbox/agent/tickets/ID     update as a human agent (body: changes, `actor_id`)
    POST /_sandbox/users, /_sandbox/organizations
    POST /_sandbox/faults               {count | fraction, kind, paths, hang_seconds}
    DELETE /_sandbox/faults
    POST /_sandbox/webhook_knobs        {duplicate, reorder}
    GET  /_sandbox/deliveries           webhook deliveries and their attempts
    POST /_sandbox/deliveries/wait      {timeout}: wait until the delivery queue is drained
    GET  /_sandbox/jobs                 job statuses; POST {paused: bool} holds/resumes jobs
    POST /_sandbox/dynamic_content      {name, variants: {locale: text}}
    POST /_sandbox/clock                {advance_seconds}
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, request

from connector_sandboxes.zendesk.state import JSON, bad_request

if TYPE_CHECKING:
    from connector_sandboxes.zendesk.sandbox import ZendeskSandbox

bp = Blueprint("zendesk_control", __name__)


def _sb() -> ZendeskSandbox:
    handle: ZendeskSandbox = current_app.config["ZENDESK_SANDBOX_HANDLE"]
    return handle


def _body() -> JSON:
    data = request.get_json(silent=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise bad_request("Body must be a JSON object")
    return data


@bp.get("")
def summary() -> Any:
    sb, st = _sb(), _sb().state
    with st.lock:
        counts = {
            name: len(getattr(st, name))
            for name in ("tickets", "users", "organizations", "webhooks", "triggers", "jobs")
        }
    return {
        "email": st.email,
        "admin_user_id": sb.admin_user_id,
        "agent_user_id": sb.agent_user_id,
        "accounts": sb.accounts(),
        "counts": counts,
    }


@bp.post("/reset")
def reset() -> Any:
    _sb().reset()
    return {"reset": True}


@bp.get("/counters")
def counters() -> Any:
    return {"counters": _sb().counters}


@bp.get("/tickets")
def tickets() -> Any:
    return {"tickets": _sb().tickets()}


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> Any:
    sb = _sb()
    return {"ticket": sb.ticket(ticket_id), "comments": sb.comments(ticket_id)}


@bp.get("/tickets/<int:ticket_id>/comments")
def comments(ticket_id: int) -> Any:
    return {"comments": _sb().comments(ticket_id)}


@bp.post("/tickets/<int:ticket_id>/close")
def close(ticket_id: int) -> Any:
    return {"ticket": _sb().close_ticket(ticket_id)}


@bp.post("/agent/tickets")
def agent_create() -> Any:
    return {"ticket": _sb().agent_create_ticket(**_body())}, 201


@bp.put("/agent/tickets/<int:ticket_id>")
def agent_update(ticket_id: int) -> Any:
    return {"ticket": _sb().agent_update_ticket(ticket_id, **_body())}


@bp.post("/users")
def create_user() -> Any:
    data = _body()
    user = _sb().create_user(
        str(data.get("name") or ""),
        data.get("email"),
        data.get("role") or "end-user",
        data.get("organization_id"),
        data.get("locale") or "en-US",
    )
    return {"user": user}, 201


@bp.post("/organizations")
def create_organization() -> Any:
    data = _body()
    org = _sb().create_organization(str(data.get("name") or ""), data.get("fields"))
    return {"organization": org}, 201


@bp.post("/faults")
def faults() -> Any:
    data = _body()
    try:
        _sb().inject_faults(
            data.get("count"),
            data.get("fraction"),
            str(data.get("kind", "500")),
            data.get("paths"),
            float(data.get("hang_seconds", 15.0)),
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return {"armed": True}


@bp.delete("/faults")
def clear_faults() -> Any:
    _sb().clear_faults()
    return {"armed": False}


@bp.post("/webhook_knobs")
def webhook_knobs() -> Any:
    data = _body()
    _sb().webhook_knobs(bool(data.get("duplicate")), bool(data.get("reorder")))
    return {"duplicate": bool(data.get("duplicate")), "reorder": bool(data.get("reorder"))}


@bp.get("/deliveries")
def deliveries() -> Any:
    return {"deliveries": _sb().deliveries}


@bp.post("/deliveries/wait")
def wait_deliveries() -> Any:
    return {"drained": _sb().wait_for_deliveries(float(_body().get("timeout", 5.0)))}


@bp.get("/jobs")
def jobs() -> Any:
    st = _sb().state
    with st.lock:
        listed = copy.deepcopy(list(st.jobs.values()))
    return {"job_statuses": listed, "paused": _sb().jobs_paused}


@bp.post("/jobs")
def pause_jobs() -> Any:
    _sb().jobs_paused = bool(_body().get("paused"))
    return {"paused": _sb().jobs_paused}


@bp.post("/dynamic_content")
def dynamic_content() -> Any:
    data = _body()
    if not data.get("name") or not isinstance(data.get("variants"), dict):
        raise bad_request("name and variants are required")
    _sb().set_dynamic_content(str(data["name"]), data["variants"])
    return {"name": data["name"]}


@bp.post("/clock")
def clock() -> Any:
    _sb().advance_clock(float(_body().get("advance_seconds", 0)))
    return {"time_offset": _sb().state.time_offset}
