"""Fakes Zendesk ticket search (`/search`, `/search/count`) and the cursor-based incremental
ticket export (`/incremental/tickets/cursor`).

Search understands (for `type:ticket`; other types return nothing): `status`, `priority` with
`:` `<` `>` `<=` `>=`; `ticket_type`; `tags`/`tag`; `fieldvalue`; `custom_field_<id>` (a trailing
`*` matches a prefix); `requester`, `assignee`, `submitter`, `organization`, `group` (an id or
`none`); `created`/`updated` with dates; `subject`/`description`; `-` negates a term; plain words
match subject, description or comments. Repeating a property ORs its values, different
properties AND. Results are immediate (Zendesk indexes with a delay of up to minutes), offset
paginated (`page`, `per_page` <= 100) and limited to 1,000 like Zendesk.

The incremental export ignores Zendesk's "excludes the most recent minute" unless
`State.incremental_lag_seconds` is set (default 0, so tests see their changes at once).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request

from connector_sandboxes.zendesk.records import PRIORITIES, STATUSES, Ticket, ticket_json
from connector_sandboxes.zendesk.state import ApiError, State, bad_request
from connector_sandboxes.zendesk.web import current_user_id, route, state

bp = Blueprint("zendesk_search", __name__)

TERM = re.compile(r'(-?)(?:(\w+)(<=|>=|:|<|>))?("[^"]*"|\S+)')
SEARCH_LIMIT = 1000
USER_KEYS = {
    "requester": "requester_id",
    "assignee": "assignee_id",
    "submitter": "submitter_id",
    "organization": "organization_id",
    "group": "group_id",
}
Predicate = Callable[[Ticket], bool]


def parse(st: State, query: str) -> tuple[str, list[Predicate]]:
    kind = "ticket"
    groups: dict[str, list[Predicate]] = {}
    extra: list[Predicate] = []
    for negate, key, op, raw in TERM.findall(query):
        value = raw.strip('"')
        if key == "type":
            kind = value
            continue
        predicate = _term(st, key.lower(), op, value)
        if negate:
            extra.append(_not(predicate))
        else:
            groups.setdefault(key.lower() or value, []).append(predicate)
    ors: list[Predicate] = [_any(ps) for ps in groups.values()]
    return kind, ors + extra


def _any(predicates: list[Predicate]) -> Predicate:
    return lambda t: any(p(t) for p in predicates)


def _not(predicate: Predicate) -> Predicate:
    return lambda t: not predicate(t)


def _term(st: State, key: str, op: str, value: str) -> Predicate:
    low = value.lower()
    if key in ("status", "priority"):
        order = STATUSES if key == "status" else PRIORITIES
        return lambda t: _ordered(getattr(t, key), op, low, order)
    if key == "ticket_type":
        return lambda t: (t.type or "") == low
    if key in ("tags", "tag"):
        return lambda t: low in t.tags
    if key == "fieldvalue":
        return lambda t: any(_field_match(v, low) for v in t.custom.values())
    if key.startswith("custom_field_"):
        field_id = int(key.removeprefix("custom_field_") or 0)
        return lambda t: _field_match(t.custom.get(field_id), low)
    if key in USER_KEYS:
        wanted = None if low == "none" else current_user_id() if low == "me" else low
        return lambda t: str(getattr(t, USER_KEYS[key]) or "").lower() == str(wanted or "")
    if key in ("created", "updated"):
        moment = _epoch(value)
        return lambda t: _ordered_num(getattr(t, f"{key}_at"), op, moment)
    if key in ("subject", "description"):
        return lambda t: low in getattr(t, key).lower()
    if key:
        raise ApiError(400, {"error": "unsupported", "description": f"Sandbox search: {key}"})
    return lambda t: low in _text(st, t)


def _ordered(current: Any, op: str, value: str, order: tuple[str, ...]) -> bool:
    if op == ":" or current not in order or value not in order:
        return current == value
    return _ordered_num(order.index(current), op, order.index(value))


def _ordered_num(current: float, op: str, value: float) -> bool:
    ops = {
        ":": current == value,
        "<": current < value,
        ">": current > value,
        "<=": current <= value,
        ">=": current >= value,
    }
    return ops[op]


def _field_match(value: Any, wanted: str) -> bool:
    values = value if isinstance(value, list) else [value]
    for item in values:
        text = str(item).lower() if item is not None else ""
        if text == wanted or (wanted.endswith("*") and text.startswith(wanted[:-1])):
            return True
    return False


def _epoch(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid date in search: {value}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _text(st: State, t: Ticket) -> str:
    bodies = " ".join(c["body"] for c in st.comments.get(t.id, []))
    return f"{t.subject} {t.description} {bodies}".lower()


def _matching(st: State) -> list[Ticket]:
    kind, predicates = parse(st, request.args.get("query", ""))
    if kind != "ticket":
        return []
    found = [t for t in st.tickets.values() if all(p(t) for p in predicates)]
    sort_by = request.args.get("sort_by")
    if sort_by in ("created_at", "updated_at", "status", "priority", "ticket_type"):
        attr = "type" if sort_by == "ticket_type" else sort_by
        found.sort(key=lambda t: str(getattr(t, attr) or ""))
        if request.args.get("sort_order", "desc") == "desc":
            found.reverse()
    return found


@route(bp, "/search", ["GET"])
def search() -> Any:
    st = state()
    page = max(1, int(request.args.get("page") or 1))
    per_page = min(100, max(1, int(request.args.get("per_page") or 100)))
    if page * per_page > SEARCH_LIMIT:
        description = (
            "Invalid search: Requested response size was greater than Search Response Limits"
        )
        raise ApiError(422, {"error": "invalid", "description": description})
    found = _matching(st)
    chunk = found[(page - 1) * per_page : page * per_page]

    def link(number: int) -> str:
        params = {**request.args.to_dict(), "page": number, "per_page": per_page}
        return st.url("search.json?" + urlencode(params))

    more = page * per_page < min(len(found), SEARCH_LIMIT)
    return {
        "results": [{**ticket_json(st, t), "result_type": "ticket"} for t in chunk],
        "facets": None,
        "next_page": link(page + 1) if more else None,
        "previous_page": link(page - 1) if page > 1 else None,
        "count": len(found),
    }


@route(bp, "/search/count", ["GET"])
def search_count() -> Any:
    return {"count": len(_matching(state()))}


def _encode(stamp: float, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"{stamp!r}|{ticket_id}".encode()).decode()


def _decode(cursor: str) -> tuple[float, int]:
    try:
        stamp, ticket_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return float(stamp), int(ticket_id)
    except ValueError:
        raise bad_request("Invalid cursor") from None


@route(bp, "/incremental/tickets/cursor", ["GET"])
def incremental_tickets() -> Any:
    st = state()
    if "cursor" in request.args:
        position = _decode(request.args["cursor"])
    elif "start_time" in request.args:
        position = (float(request.args["start_time"]) - 1e-9, 0)
    else:
        raise bad_request("start_time or cursor is required")
    per_page = min(1000, max(1, int(request.args.get("per_page") or 1000)))
    horizon = st.now() - st.incremental_lag_seconds
    ordered = sorted(
        (t for t in st.tickets.values() if t.updated_at <= horizon),
        key=lambda t: (t.updated_at, t.id),
    )
    pending = [t for t in ordered if (t.updated_at, t.id) > position]
    page = pending[:per_page]
    after = _encode(page[-1].updated_at, page[-1].id) if page else _encode(*position)
    return {
        "tickets": [ticket_json(st, t) for t in page],
        "after_cursor": after,
        "after_url": st.url(f"incremental/tickets/cursor.json?cursor={after}"),
        "before_cursor": None,
        "before_url": None,
        "end_of_stream": len(pending) <= per_page,
    }
