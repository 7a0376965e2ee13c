"""Fakes Zendesk ticket fields (system and custom) and their drop-down options.

Like Zendesk: tagger (drop-down) option values are tags, unique across all fields; a `PUT` of a
field must list every option (missing ones are deleted); `POST .../options` adds or updates one;
deleting an option empties the field on the tickets that held it (their tag stays); a field's
`type` cannot change after creation (an update ignores it).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint

from connector_sandboxes.zendesk.state import JSON, ApiError, State, iso, not_found, record_invalid
from connector_sandboxes.zendesk.web import body, listing, route, state

bp = Blueprint("zendesk_fields", __name__)

CUSTOM_TYPES = (
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "tagger",
    "multiselect",
)
SYSTEM_TYPES = ("subject", "description", "status", "tickettype", "priority", "group", "assignee")
OPTION_TYPES = ("tagger", "multiselect")


def seed_system_fields(st: State) -> None:
    for position, kind in enumerate(SYSTEM_TYPES):
        field = _new_field(st, kind, kind.capitalize() if kind != "tickettype" else "Type")
        field.update(position=position, removable=False, required=kind == "subject")


def _new_field(st: State, kind: str, title: str, description: str = "") -> JSON:
    now = iso(st.now())
    field_id = st.ids.next("ticket_field")
    field = {
        "id": field_id,
        "type": kind,
        "title": title,
        "raw_title": title,
        "description": description,
        "raw_description": description,
        "position": 9999,
        "active": True,
        "required": False,
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": False,
        "editable_in_portal": False,
        "required_in_portal": False,
        "tag": None,
        "created_at": now,
        "updated_at": now,
        "removable": True,
        "key": None,
        "agent_description": None,
    }
    st.ticket_fields[field_id] = field
    return field


def add_ticket_field(st: State, data: JSON) -> JSON:
    kind, title = str(data.get("type") or ""), str(data.get("title") or "")
    if kind not in CUSTOM_TYPES:
        raise record_invalid("type", f"Type: {kind or 'blank'} is not a valid field type")
    if not title:
        raise record_invalid("title", "Title: cannot be blank")
    field = _new_field(st, kind, title, str(data.get("description") or title))
    try:
        if kind in OPTION_TYPES:
            field["custom_field_options"] = []
            _replace_options(st, field, data.get("custom_field_options") or [])
        _apply_attributes(st, field, data)
    except ApiError:
        del st.ticket_fields[field["id"]]  # a refused field leaves no trace
        raise
    return field


def _apply_attributes(st: State, field: JSON, data: JSON) -> None:
    for key in (
        "title",
        "description",
        "active",
        "required",
        "position",
        "agent_description",
        "regexp_for_validation",
        "visible_in_portal",
        "editable_in_portal",
    ):
        if key in data:
            field[key] = data[key]
    field["raw_title"] = field["title_in_portal"] = field["raw_title_in_portal"] = field["title"]
    field["raw_description"] = field["description"]
    if field["type"] == "checkbox" and "tag" in data:
        tag = data["tag"] or None
        if tag:
            _check_tag_free(st, tag, field["id"], None)
        field["tag"] = tag


def _check_tag_free(st: State, tag: str, field_id: int, option_id: int | None) -> None:
    owner = tag_owner(st, tag)
    if owner is not None and (owner[0]["id"], owner[1] and owner[1]["id"]) != (field_id, option_id):
        raise record_invalid("custom_field_options", f"Value: {tag} is already taken")


def _option(st: State, field: JSON, data: JSON, option_id: int | None = None) -> JSON:
    name, value = str(data.get("name") or ""), str(data.get("value") or "")
    if not name or not value or re.search(r"\s", value):
        raise record_invalid("custom_field_options", "Options need a name and a value (a tag)")
    _check_tag_free(st, value, field["id"], option_id)
    oid = option_id or st.ids.next("option")
    return {
        "id": oid,
        "name": name,
        "raw_name": name,
        "value": value,
        "default": False,
        "position": int(data.get("position") or 0),
    }


def _replace_options(st: State, field: JSON, options: list[JSON]) -> None:
    old = {o["id"]: o for o in field["custom_field_options"]}
    by_value = {o["value"]: o for o in field["custom_field_options"]}
    field["custom_field_options"] = []  # options not listed are deleted, as in Zendesk
    for data in options:
        existing = old.get(data.get("id")) or by_value.get(data.get("value"))
        field["custom_field_options"].append(_option(st, field, data, existing and existing["id"]))
    for value in set(by_value) - {o["value"] for o in field["custom_field_options"]}:
        _blank_deleted_option(st, field["id"], value)


def upsert_option(st: State, field: JSON, data: JSON) -> tuple[JSON, bool]:
    if field["type"] not in OPTION_TYPES:
        raise record_invalid("custom_field_options", "Field does not have options")
    options = field["custom_field_options"]
    index = next((i for i, o in enumerate(options) if o["id"] == data.get("id")), None)
    if data.get("id") and index is None:
        raise not_found()
    option = _option(st, field, data, data.get("id") if index is not None else None)
    if index is None:
        options.append(option)
    else:
        if options[index]["value"] != option["value"]:  # a new tag: old tickets lose the value
            _blank_deleted_option(st, field["id"], options[index]["value"])
        options[index] = option
    field["updated_at"] = iso(st.now())
    return option, index is None


def custom_fields(st: State) -> list[JSON]:
    fields = [f for f in st.ticket_fields.values() if f["type"] in CUSTOM_TYPES and f["active"]]
    return sorted(fields, key=lambda f: (f["position"], f["id"]))


def tag_owner(st: State, tag: str) -> tuple[JSON, JSON | None] | None:
    """The field (and option) whose value is `tag`: drop-down options and checkbox tags."""
    for field in st.ticket_fields.values():
        if field["type"] == "checkbox" and field["tag"] == tag:
            return field, None
        for option in field.get("custom_field_options", []):
            if option["value"] == tag:
                return field, option
    return None


def validate_value(field: JSON, value: Any) -> Any:
    """Zendesk's per-type validation of a custom field value on a ticket."""
    kind, title = field["type"], field["title"]
    if value is None or value == "" or value == []:
        return False if kind == "checkbox" else None
    try:
        if kind == "checkbox":
            return value in (True, "true", "1", 1)
        if kind == "integer":
            return str(int(str(value)))
        if kind == "decimal":
            return str(float(str(value)))
        if kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
            raise ValueError(value)
    except ValueError:
        raise record_invalid(str(field["id"]), f"{title}: is invalid") from None
    values = {o["value"] for o in field.get("custom_field_options", [])}
    if kind == "tagger" and value not in values:
        raise record_invalid(str(field["id"]), f"{title}: {value} is not a valid option")
    if kind == "multiselect":
        chosen = value if isinstance(value, list) else [value]
        if not set(chosen) <= values:
            raise record_invalid(str(field["id"]), f"{title}: is not a valid option")
        return list(chosen)
    return value if kind != "text" else str(value)


def field_json(st: State, field: JSON) -> JSON:
    out = {"url": st.url(f"ticket_fields/{field['id']}.json"), **field}
    if "custom_field_options" in field:
        out["custom_field_options"] = [
            option_json(st, field, o) for o in field["custom_field_options"]
        ]
    return out


def option_json(st: State, field: JSON, option: JSON) -> JSON:
    return {"url": st.url(f"ticket_fields/{field['id']}/options/{option['id']}.json"), **option}


def _field(st: State, field_id: int) -> JSON:
    field = st.ticket_fields.get(field_id)
    if field is None:
        raise not_found()
    return field


# ---- routes ------------------------------------------------------------------------------
@route(bp, "/ticket_fields", ["GET"])
def list_fields() -> Any:
    st = state()
    with st.lock:
        fields = sorted(st.ticket_fields.values(), key=lambda f: (f["position"], f["id"]))
        return listing("ticket_fields", [field_json(st, f) for f in fields])


@route(bp, "/ticket_fields", ["POST"])
def create_field() -> Any:
    st, data = state(), body("ticket_field")
    with st.lock:
        field = add_ticket_field(st, data)
        headers = {"Location": st.url(f"ticket_fields/{field['id']}.json")}
        return {"ticket_field": field_json(st, field)}, 201, headers


@route(bp, "/ticket_fields/<int:field_id>", ["GET"])
def show_field(field_id: int) -> Any:
    st = state()
    with st.lock:
        return {"ticket_field": field_json(st, _field(st, field_id))}


@route(bp, "/ticket_fields/<int:field_id>", ["PUT"])
def update_field(field_id: int) -> Any:
    st, data = state(), body("ticket_field")
    with st.lock:
        field = _field(st, field_id)
        if field["type"] in OPTION_TYPES and "custom_field_options" in data:
            _replace_options(st, field, data["custom_field_options"] or [])
        _apply_attributes(st, field, data)
        field["updated_at"] = iso(st.now())
        return {"ticket_field": field_json(st, field)}


@route(bp, "/ticket_fields/<int:field_id>", ["DELETE"])
def delete_field(field_id: int) -> Any:
    st = state()
    with st.lock:
        if not _field(st, field_id)["removable"]:
            raise ApiError(403, {"error": "Forbidden", "description": "System field"})
        del st.ticket_fields[field_id]
        return "", 204


@route(bp, "/ticket_fields/<int:field_id>/options", ["GET"])
def list_options(field_id: int) -> Any:
    st = state()
    with st.lock:
        field = _field(st, field_id)
        options = [option_json(st, field, o) for o in field.get("custom_field_options", [])]
        return listing("custom_field_options", options)


@route(bp, "/ticket_fields/<int:field_id>/options", ["POST"])
def upsert_option_route(field_id: int) -> Any:
    st, data = state(), body("custom_field_option")
    with st.lock:
        field = _field(st, field_id)
        option, created = upsert_option(st, field, data)
        return {"custom_field_option": option_json(st, field, option)}, 201 if created else 200


@route(bp, "/ticket_fields/<int:field_id>/options/<int:option_id>", ["GET", "DELETE"])
def option_route(field_id: int, option_id: int) -> Any:
    from flask import request

    st = state()
    with st.lock:
        options = _field(st, field_id).get("custom_field_options", [])
        option = next((o for o in options if o["id"] == option_id), None)
        if option is None:
            raise not_found()
        if request.method == "GET":
            return {"custom_field_option": option_json(st, _field(st, field_id), option)}
        options.remove(option)
        _blank_deleted_option(st, field_id, option["value"])
        return "", 204


def _blank_deleted_option(st: State, field_id: int, value: str) -> None:
    """As Zendesk: tickets holding a deleted option show the field empty (closed ones too);
    the tag itself stays on them."""
    for ticket in st.tickets.values():
        held = ticket.custom.get(field_id)
        if isinstance(held, list) and value in held:
            ticket.custom[field_id] = [v for v in held if v != value]
        elif held == value:
            ticket.custom[field_id] = None
