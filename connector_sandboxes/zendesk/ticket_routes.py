"""Fakes the Zendesk ticket endpoints: create (with `Idempotency-Key`), show and show_many (with
`include=users,organizations`), list, update (with the Update Ticket rate limit), delete,
comments, audits, incidents, `update_many` and job statuses.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from flask import Blueprint, request

from connector_sandboxes.zendesk.people import user_group_ids
from connector_sandboxes.zendesk.sideload import sideloads
from connector_sandboxes.zendesk.state import JSON, ApiError, bad_request, not_found
from connector_sandboxes.zendesk.tickets import create_ticket, ticket_json, update_ticket
from connector_sandboxes.zendesk.web import (
    body,
    current_user_id,
    cursor_page,
    id_list,
    listing,
    route,
    runtime,
    state,
    too_many_values,
)

bp = Blueprint("zendesk_tickets", __name__)

IDEMPOTENCY_SECONDS = 2 * 60 * 60


FORBIDDEN_TICKET = {
    "error": "Forbidden",
    "description": "You do not have access to this page. Please contact the account owner of "
    "this help desk for further help.",
}


def may_see(user: JSON, ticket: Any, group_ids: list[int] | None = None) -> bool:
    """Zendesk's ticket restriction of agents: none, `assigned`, `groups`, `organization`."""
    restriction = user.get("ticket_restriction")
    if user["role"] == "admin" or restriction is None:
        return True
    if restriction == "assigned":
        return bool(ticket.assignee_id == user["id"])
    if restriction == "groups":
        return ticket.assignee_id == user["id"] or ticket.group_id in (group_ids or [])
    if restriction == "organization":
        return bool(user["organization_id"] and ticket.organization_id == user["organization_id"])
    return False


@route(bp, "/tickets", ["POST"])
def create() -> Any:
    st, data = state(), body("ticket")
    key = request.headers.get("Idempotency-Key")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    now = st.now()
    seen = st.idempotency.get(key or "")
    if key and seen and now - seen[2] < IDEMPOTENCY_SECONDS and seen[1] in st.tickets:
        if seen[0] != digest:
            description = "Idempotency key was already used with a different request"
            raise ApiError(400, {"error": "IdempotentRequestError", "description": description})
        ticket = st.tickets[seen[1]]
        answer = {"ticket": ticket_json(st, ticket), "audit": st.audits[ticket.id][0]}
        return answer, 201, {"x-idempotency-lookup": "hit", "Location": _location(ticket.id)}
    ticket, audit = create_ticket(st, data, current_user_id())
    if key:
        st.idempotency[key] = (digest, ticket.id, now)
    headers = {"Location": _location(ticket.id)} | ({"x-idempotency-lookup": "miss"} if key else {})
    return {"ticket": ticket_json(st, ticket), "audit": audit}, 201, headers


def _location(ticket_id: int) -> str:
    return state().url(f"tickets/{ticket_id}.json")


@route(bp, "/tickets", ["GET"])
def list_tickets() -> Any:
    st = state()
    tickets = sorted(st.tickets.values(), key=lambda t: t.id)
    return cursor_page(
        "tickets", tickets, "tickets.json", lambda t: t.id, lambda t: ticket_json(st, t)
    )


@route(bp, "/tickets/<int:ticket_id>", ["GET"])
def show(ticket_id: int) -> Any:
    st = state()
    ticket = st.ticket(ticket_id)
    viewer = st.user(current_user_id())
    if not may_see(viewer, ticket, user_group_ids(st, viewer["id"])):
        raise ApiError(403, FORBIDDEN_TICKET)
    return {"ticket": ticket_json(st, ticket), **sideloads(st, [ticket])}


@route(bp, "/tickets/show_many", ["GET"])
def show_many() -> Any:
    st, ids = state(), id_list()
    found = [st.tickets[i] for i in ids if i in st.tickets]
    return {**listing("tickets", [ticket_json(st, t) for t in found]), **sideloads(st, found)}


@route(bp, "/tickets/<int:ticket_id>", ["PUT"])
def update(ticket_id: int) -> Any:
    allowed, _remaining, reset_in = runtime("update_limit").take()
    if not allowed:
        description = "Number of allowed ticket updates per minute exceeded"
        body_ = {"error": "APIRateLimitExceeded", "description": description}
        raise ApiError(429, body_, {"Retry-After": str(reset_in)})
    st, data = state(), body("ticket")
    audit = update_ticket(st, ticket_id, data, current_user_id())
    return {"ticket": ticket_json(st, st.tickets[ticket_id]), "audit": audit}


@route(bp, "/tickets/<int:ticket_id>", ["DELETE"])
def delete(ticket_id: int) -> Any:
    st = state()
    st.ticket(ticket_id)
    del st.tickets[ticket_id]
    return "", 204


@route(bp, "/tickets/<int:ticket_id>/comments", ["GET"])
def comments(ticket_id: int) -> Any:
    st = state()
    st.ticket(ticket_id)
    items = copy.deepcopy(st.comments[ticket_id])
    if request.args.get("sort_order") == "desc":
        items.reverse()
    return listing("comments", items)


@route(bp, "/tickets/<int:ticket_id>/audits", ["GET"])
def audits(ticket_id: int) -> Any:
    st = state()
    st.ticket(ticket_id)
    return listing("audits", st.audits[ticket_id])


@route(bp, "/tickets/<int:ticket_id>/incidents", ["GET"])
def incidents(ticket_id: int) -> Any:
    st = state()
    st.ticket(ticket_id)
    found = [ticket_json(st, t) for t in st.tickets.values() if t.problem_id == ticket_id]
    return listing("tickets", found)


@route(bp, "/tickets/update_many", ["PUT"])
def update_many() -> Any:
    data = body()
    if "ids" in request.args:
        payload = data.get("ticket")
        if not isinstance(payload, dict):
            raise bad_request("Parameter ticket is required and must be an object")
        items = [(ticket_id, dict(payload)) for ticket_id in id_list()]
    else:
        tickets = data.get("tickets")
        if not isinstance(tickets, list) or not tickets:
            raise bad_request("Parameter tickets is required and must be a list")
        if len(tickets) > 100:
            raise too_many_values("", 100)  # sic: Zendesk leaves the name blank here
        try:
            items = [(int(t["id"]), {k: v for k, v in t.items() if k != "id"}) for t in tickets]
        except (KeyError, TypeError, ValueError):
            raise bad_request("Every ticket needs an id") from None
    job = runtime("jobs").submit(items, current_user_id())
    return {"job_status": copy.deepcopy(job)}


@route(bp, "/job_statuses/<job_id>", ["GET"])
def show_job(job_id: str) -> Any:
    job = state().jobs.get(job_id)
    if job is None:
        raise not_found()
    return {"job_status": copy.deepcopy(job)}


@route(bp, "/job_statuses/show_many", ["GET"])
def show_many_jobs() -> Any:
    st = state()
    ids = id_list(numeric=False)
    return {"job_statuses": [copy.deepcopy(st.jobs[i]) for i in ids if i in st.jobs]}


@route(bp, "/job_statuses", ["GET"])
def list_jobs() -> Any:
    jobs = list(state().jobs.values())[-100:]
    return {"job_statuses": copy.deepcopy(list(reversed(jobs)))}
