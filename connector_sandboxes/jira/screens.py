"""Fakes Jira's field and screen administration: creating custom fields, and reading the
chain project -> issue type screen scheme -> screen scheme -> screen -> tabs -> fields, and
adding a field to a tab (shapes from the Cloud platform REST spec)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira import catalog
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.state import Screen
from connector_sandboxes.jira.web import body, cloud_only, sandbox

bp = Blueprint("jira_screens", __name__, url_prefix="/rest/api/<any('2','3'):v>")

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
# type -> searchers Jira accepts for it (the spec's list, for the types the sandbox keeps)
SEARCHERS = {
    "float": ("exactnumber", "numberrange"),
    "datetime": ("datetimerange",),
    "textfield": ("textsearcher",),
    "textarea": ("textsearcher",),
}


@bp.url_value_preprocessor
def _pull_version(endpoint: str | None, values: dict | None) -> None:
    g.api = (values or {}).pop("v", "2")


def _page(values: list[Any]) -> dict[str, Any]:
    return {"isLast": True, "maxResults": 100, "startAt": 0, "total": len(values), "values": values}


@bp.post("/field")
def create_field() -> ResponseReturnValue:
    data, state = body(), sandbox().state
    name, kind = str(data.get("name") or "").strip(), str(data.get("type") or "")
    kind = kind.removeprefix(_CF)
    if not name:
        raise JiraError(400, errors={"name": "The custom field name must not be empty."})
    if kind not in SEARCHERS:
        raise JiraError(
            400, errors={"type": f"Custom field type '{data.get('type')}' is not valid."}
        )
    searcher = str(data.get("searcherKey") or "").removeprefix(_CF)
    if searcher and searcher not in SEARCHERS[kind]:
        raise JiraError(400, errors={"searcherKey": f"Searcher '{searcher}' is not valid."})
    with state.lock:
        cf = state.add_custom_field(name, kind)
    entry = {"id": cf.id, "key": cf.id, "name": cf.name, "custom": True, "orderable": True}
    entry.update(navigable=True, searchable=True, schema=cf.schema)
    entry["clauseNames"] = [f"cf[{cf.numeric_id}]", cf.name]
    return jsonify(entry), 201


@bp.get("/issuetypescreenscheme/project")
def type_schemes_for_projects() -> ResponseReturnValue:
    state = sandbox().state
    cloud_only()  # Data Center has no issue type screen scheme API
    wanted = set(request.args.getlist("projectId"))
    if not wanted:
        raise JiraError(400, ["projectId is required."])
    with state.lock:
        values = [
            {
                "issueTypeScreenScheme": {"id": str(t.id), "name": t.name},
                "projectIds": list(t.project_ids),
            }
            for t in state.type_screen_schemes.values()
            if wanted & set(t.project_ids)
        ]
    return jsonify(_page(values))


@bp.get("/issuetypescreenscheme/mapping")
def type_scheme_items() -> ResponseReturnValue:
    state = sandbox().state
    wanted = set(request.args.getlist("issueTypeScreenSchemeId"))
    with state.lock:
        values = [
            {"issueTypeId": type_id, "issueTypeScreenSchemeId": str(t.id), "screenSchemeId": str(s)}
            for t in state.type_screen_schemes.values()
            if not wanted or str(t.id) in wanted
            for type_id, s in t.mapping.items()
        ]
    return jsonify(_page(values))


@bp.get("/screenscheme")
def screen_schemes() -> ResponseReturnValue:
    state = sandbox().state
    wanted = set(request.args.getlist("id"))
    with state.lock:
        values = [
            {"id": s.id, "name": s.name, "screens": dict(s.screens)}
            for s in state.screen_schemes.values()
            if not wanted or str(s.id) in wanted
        ]
    return jsonify(_page(values))


def _screen(screen_id: int) -> Screen:
    found = sandbox().state.screens.get(screen_id)
    if found is None:
        raise JiraError(404, [f"The screen with id '{screen_id}' does not exist."])
    return found


def _tab(screen: Screen, tab_id: int) -> list[str]:
    if tab_id not in screen.tabs:
        raise JiraError(404, [f"The screen tab with id '{tab_id}' does not exist."])
    return screen.tabs[tab_id][1]


@bp.get("/screens/<int:screen_id>/tabs")
def tabs(screen_id: int) -> ResponseReturnValue:
    with sandbox().state.lock:
        screen = _screen(screen_id)
        return jsonify([{"id": tid, "name": name} for tid, (name, _) in screen.tabs.items()])


def _field_name(field_id: str) -> str:
    state = sandbox().state
    cf = state.custom_field(field_id)
    system = {f[0]: f[1] for f in catalog.SYSTEM_FIELDS}
    return cf.name if cf else system.get(field_id, field_id)


@bp.get("/screens/<int:screen_id>/tabs/<int:tab_id>/fields")
def tab_fields(screen_id: int, tab_id: int) -> ResponseReturnValue:
    with sandbox().state.lock:
        fields = _tab(_screen(screen_id), tab_id)
        return jsonify([{"id": f, "name": _field_name(f)} for f in fields])


@bp.post("/screens/<int:screen_id>/tabs/<int:tab_id>/fields")
def add_tab_field(screen_id: int, tab_id: int) -> ResponseReturnValue:
    state, field_id = sandbox().state, str(body().get("fieldId") or "")
    with state.lock:
        screen = _screen(screen_id)
        fields = _tab(screen, tab_id)
        cf = state.custom_field(field_id)
        if cf is None or cf.id != field_id:
            raise JiraError(404, [f"The field with id '{field_id}' does not exist."])
        if field_id in screen.fields():
            raise JiraError(400, [f"The field with id '{field_id}' is already on the screen."])
        fields.append(field_id)
        return jsonify({"id": field_id, "name": cf.name})
