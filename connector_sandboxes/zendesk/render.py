"""Fakes Zendesk placeholder rendering (`{{ticket.id}}`, `{{ticket.requester.first_name}}`,
`{{dc.name}}`, ...) in agent comments and in trigger webhook bodies.

As in Zendesk, an unknown placeholder renders as an empty string, and dynamic content is chosen by
the requester's locale (exact locale, then its language, then the default `en-US`). Liquid tags
(`{% if %}`) and filters are not supported: tags are left as they are, filters make the
placeholder unknown. In JSON webhook bodies values are JSON-escaped, so the body stays valid.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connector_sandboxes.zendesk.state import JSON, State, iso

PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
STATUS_TITLES = {
    "new": "New",
    "open": "Open",
    "pending": "Pending",
    "hold": "On-hold",
    "solved": "Solved",
    "closed": "Closed",
}
VIA_TITLES = {"api": "Web Service", "web": "Web Form", "email": "Mail"}


def render(st: State, ticket: Any, actor_id: int, text: str, json_escape: bool = False) -> str:
    def replace(match: re.Match[str]) -> str:
        value = placeholder_value(st, ticket, actor_id, match.group(1))
        text = "" if value is None else str(value)
        return json.dumps(text)[1:-1] if json_escape else text

    return PLACEHOLDER.sub(replace, text)


def placeholder_value(st: State, ticket: Any, actor_id: int, name: str) -> Any:
    head, _, rest = name.partition(".")
    if head == "dc":
        return dynamic_content(st, rest, _requester(st, ticket).get("locale", "en-US"))
    if head == "current_user":
        return _user_value(st.users.get(actor_id), rest)
    if head != "ticket":
        return None
    if rest.startswith(("requester.", "assignee.", "submitter.")):
        role, _, attr = rest.partition(".")
        return _user_value(st.users.get(getattr(ticket, f"{role}_id")), attr)
    if rest.startswith("organization."):
        org = st.organizations.get(ticket.organization_id) or {}
        return {"id": org.get("id"), "name": org.get("name")}.get(rest.split(".", 1)[1])
    if rest.startswith("ticket_field_option_title_"):
        return _option_title(st, ticket, rest.removeprefix("ticket_field_option_title_"))
    if rest.startswith("ticket_field_"):
        value = ticket.custom.get(_int(rest.removeprefix("ticket_field_")))
        if isinstance(value, bool):
            return str(value).lower()
        return " ".join(value) if isinstance(value, list) else value
    return _ticket_value(st, ticket, rest)


def _ticket_value(st: State, ticket: Any, attr: str) -> Any:
    values = {
        "id": ticket.id,
        "title": ticket.subject,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": STATUS_TITLES.get(ticket.status),
        "ticket_type": (ticket.type or "").capitalize(),
        "priority": (ticket.priority or "").capitalize(),
        "tags": " ".join(ticket.tags),
        "updated_at_with_timestamp": iso(ticket.updated_at),
        "created_at_with_timestamp": iso(ticket.created_at),
        "external_id": ticket.external_id,
        "problem_id": ticket.problem_id,
        "via": VIA_TITLES.get(ticket.via["channel"], ""),
        "url": f"{st.base_url}/agent/tickets/{ticket.id}",
        "link": f"{st.base_url}/agent/tickets/{ticket.id}",
        "group.id": ticket.group_id,
    }
    return values.get(attr)


def _option_title(st: State, ticket: Any, field_id: str) -> Any:
    field = st.ticket_fields.get(_int(field_id)) or {}
    value = ticket.custom.get(field.get("id"))
    for option in field.get("custom_field_options", []):
        if option["value"] == value:
            return option["name"]
    return None


def _user_value(user: JSON | None, attr: str) -> Any:
    if not user:
        return None
    name = user["name"] or ""
    first, _, last = name.partition(" ")
    extra = {"first_name": first, "last_name": last}
    return extra[attr] if attr in extra else user.get(attr) if attr in user else None


def _requester(st: State, ticket: Any) -> JSON:
    return st.users.get(ticket.requester_id) or {}


def dynamic_content(st: State, name: str, locale: str) -> str | None:
    variants = st.dynamic_content.get(name)
    if not variants:
        return None
    language = locale.split("-")[0]
    for key in (locale, language, "en-US"):
        if key in variants:
            return variants[key]
    return next(iter(variants.values()))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def html_of(text: str) -> str:
    """The html_body Zendesk stores for a plain-text comment."""
    from html import escape

    paragraphs = "".join(f'<p dir="auto">{escape(p)}</p>' for p in text.split("\n\n") if p)
    return f'<div class="zd-comment" dir="auto">{paragraphs}</div>'


def text_of(html: str) -> str:
    """The plain body Zendesk derives from an html_body (tags dropped, entities decoded)."""
    from html import unescape

    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", html)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()
