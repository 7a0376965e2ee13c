"""Small Flask helpers shared by the fake API's blueprints (routing with `.json`, bodies, ids)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, request

from connector_sandboxes.zendesk.state import JSON, State, bad_request

STATE_KEY = "ZENDESK_SANDBOX_STATE"


def route(bp: Blueprint, rule: str, methods: list[str]) -> Callable[[Any], Any]:
    """Register a view (the app strips zenpy's `.json` suffix before routing).

    The view runs and its answer is serialised while the state lock is held, so a background
    thread never changes a record half-way through its JSON encoding.
    """

    def decorator(view: Any) -> Any:
        @functools.wraps(view)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with state().lock:
                return current_app.make_response(view(*args, **kwargs))

        bp.add_url_rule(rule, view_func=locked, methods=methods)
        return view

    return decorator


def runtime(name: str) -> Any:
    """A runtime helper the sandbox registered on the app (`jobs`, `update_limit`)."""
    return current_app.config["ZENDESK_SANDBOX_" + name.upper()]


def state() -> State:
    st: State = current_app.config[STATE_KEY]
    return st


def current_user_id() -> int:
    """Who this API request acts as: the user its login named (see `app`)."""
    user_id: int = g.user_id
    return user_id


def body(key: str | None = None) -> JSON:
    """The JSON body (or its `key` member); 400 in Zendesk's shape when it is not an object."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise bad_request("Request body must be a JSON object")
    if key is None:
        return data
    inner = data.get(key)
    if not isinstance(inner, dict):
        raise bad_request(f"Parameter {key} is required and must be an object")
    return inner


def id_list(name: str = "ids", limit: int = 100, numeric: bool = True) -> list[Any]:
    raw = request.args.get(name, "")
    parts = [p for p in raw.split(",") if p.strip()]
    if len(parts) > limit:
        raise too_many_values(name, limit)
    if not numeric:
        return [p.strip() for p in parts]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise bad_request(f"Parameter {name} must be a comma-separated list of ids") from None


def too_many_values(name: str, limit: int = 100) -> Exception:
    from connector_sandboxes.zendesk.state import ApiError

    description = f"Parameter {name} cannot specify more than {limit} values"
    return ApiError(400, {"error": "TooManyValues", "description": description, "max_count": limit})


def listing(key: str, items: list[JSON]) -> JSON:
    """Offset-paginated list envelope for small collections (one page)."""
    return {key: items, "next_page": None, "previous_page": None, "count": len(items)}


def cursor_page(
    key: str,
    items: list[Any],
    path: str,
    ident: Callable[[Any], Any] = lambda item: item["id"],
    render: Callable[[Any], JSON] = lambda item: item,
) -> JSON:
    """Zendesk cursor pagination (`page[size]`, `page[after]`): `meta` and `links` as recorded."""
    size = min(int(request.args.get("page[size]") or 100), 100)
    keys = [str(ident(item)) for item in items]
    start = 0
    if request.args.get("page[after]"):
        after = _unb64(request.args["page[after]"])
        start = keys.index(after) + 1 if after in keys else len(items)
    page = items[start : start + size]
    first, last = (_b64(keys[start]), _b64(keys[start + len(page) - 1])) if page else (None, None)
    base = state().url(path)

    def link(direction: str, cursor: str | None) -> str | None:
        query = urlencode({f"page[{direction}]": cursor, "page[size]": size})
        return f"{base}?{query}" if cursor else None

    return {
        key: [render(item) for item in page],
        "meta": {
            "has_more": start + size < len(items),
            "after_cursor": last,
            "before_cursor": first,
        },
        "links": {"prev": link("before", first), "next": link("after", last)},
    }


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text.encode()).decode()
    except ValueError:
        raise bad_request("Invalid cursor") from None
