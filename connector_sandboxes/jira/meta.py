"""Fakes Jira's reference endpoints: serverInfo, myself, users, projects, issue types,
priorities, resolutions, statuses, status categories, fields, link types and createmeta."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira import catalog, render
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.state import Project, jira_time
from connector_sandboxes.jira.web import actor, ctx, sandbox

bp = Blueprint("jira_meta", __name__, url_prefix="/rest/api/<any('2','3'):v>")


# deploymentType -> (version, buildNumber). Data Center follows 10.3 (an LTS release).
VERSIONS = {
    "Cloud": ("1001.0.0-SNAPSHOT", 100300),
    "DataCenter": ("10.3.12", 10030012),
    "Server": ("9.12.15", 9120015),
}


@bp.url_value_preprocessor
def _pull_version(endpoint: str | None, values: dict | None) -> None:
    g.api = (values or {}).pop("v", "2")


@bp.get("/serverInfo")
def server_info() -> ResponseReturnValue:
    sb = sandbox()
    version, build = VERSIONS[sb.state.deployment_type]
    with sb.state.lock:
        now = jira_time(sb.state.now())
    return jsonify(
        baseUrl=ctx().base,
        displayUrl=ctx().base,
        version=version,
        versionNumbers=[int(n) for n in version.split("-")[0].split(".")],
        deploymentType=sb.state.deployment_type,
        buildNumber=build,
        buildDate="2026-11-01T00:00:00.000+0000",
        serverTime=now,
        scmInfo="sandbox",
        serverTitle="Jira Sandbox",
    )


@bp.get("/myself")
def myself() -> ResponseReturnValue:
    state = sandbox().state
    return jsonify(render.user(ctx(), state.user(actor())))


@bp.get("/user")
def user() -> ResponseReturnValue:
    state, args = sandbox().state, request.args
    names = ("accountId",) if state.cloud else ("username", "key")
    found = next(
        (state.find_user({"name" if n == "username" else n: args[n]}) for n in names if n in args),
        None,
    )
    if found is None:
        raise JiraError(
            404, ["Specified user does not exist or you do not have required permissions"]
        )
    return jsonify(render.user(ctx(), found))


@bp.get("/mypermissions")
def my_permissions() -> ResponseReturnValue:
    """The caller's permissions. Cloud requires `permissions`; Data Center still answers every
    permission without it (deprecated there)."""
    sb = sandbox()
    wanted = [p for p in (request.args.get("permissions") or "").split(",") if p]
    if not wanted and sb.state.cloud:
        raise JiraError(400, ["The 'permissions' parameter is required."])
    unknown = [p for p in wanted if p not in catalog.PERMISSIONS]
    if unknown:
        raise JiraError(404, [f"No permission with key '{unknown[0]}' found."])
    held = catalog.permissions_of(is_admin=actor() == sb.api_account_id)
    return jsonify(
        permissions={
            key: {**catalog.PERMISSIONS[key], "key": key, "havePermission": key in held}
            for key in (wanted or catalog.PERMISSIONS)
        }
    )


def _project(ref: str) -> Project:
    found = sandbox().state.project(ref)
    if found is None:
        raise JiraError(404, [f"No project could be found with key '{ref}'."])
    return found


@bp.get("/project")
def projects() -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        return jsonify([render.project(ctx(), p) for p in state.projects.values()])


@bp.get("/project/<ref>")
def project(ref: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        return jsonify(render.project(ctx(), _project(ref)))


@bp.get("/project/<ref>/components")
def components(ref: str) -> ResponseReturnValue:
    p = _project(ref)
    return jsonify([render.component(ctx(), cid, name) for cid, name in p.components.items()])


@bp.get("/project/<ref>/versions")
def versions(ref: str) -> ResponseReturnValue:
    p = _project(ref)
    return jsonify([render.version(ctx(), p, vid) for vid in p.versions])


@bp.get("/issuetype")
def issue_types() -> ResponseReturnValue:
    return jsonify([render.named(ctx(), "issuetype", t) for t in catalog.ISSUE_TYPES])


@bp.get("/priority")
def priorities() -> ResponseReturnValue:
    return jsonify([render.named(ctx(), "priority", p) for p in catalog.PRIORITIES])


@bp.get("/resolution")
def resolutions() -> ResponseReturnValue:
    return jsonify([render.named(ctx(), "resolution", r) for r in catalog.RESOLUTIONS])


@bp.get("/status")
def statuses() -> ResponseReturnValue:
    return jsonify([render.status(ctx(), s) for s in catalog.STATUSES])


@bp.get("/statuscategory")
def status_categories() -> ResponseReturnValue:
    keys = ("new", "indeterminate", "done")
    undefined = {"self": f"{ctx().rest}/statuscategory/1", **catalog.UNDEFINED_CATEGORY}
    return jsonify([undefined] + [render.status_category(ctx(), k) for k in keys])


@bp.get("/issueLinkType")
def link_types() -> ResponseReturnValue:
    types = [render.named(ctx(), "issueLinkType", t) for t in catalog.LINK_TYPES]
    return jsonify(issueLinkTypes=types)


@bp.get("/field")
def fields() -> ResponseReturnValue:
    out = []
    for field_id, name, schema in catalog.SYSTEM_FIELDS:
        entry = {"id": field_id, "key": field_id, "name": name, "custom": False}
        entry.update(orderable=field_id not in ("status", "created", "updated", "issuekey"))
        entry.update(navigable=field_id != "comment", searchable=True)
        entry["clauseNames"] = [field_id] if field_id != "issuekey" else ["id", "issue", "key"]
        if schema:
            entry["schema"] = schema
        out.append(entry)
    for cf in sandbox().state.custom_fields:
        entry = {"id": cf.id, "key": cf.id, "name": cf.name, "custom": True, "orderable": True}
        entry.update(navigable=True, searchable=True, schema=cf.schema)
        entry["clauseNames"] = [f"cf[{cf.numeric_id}]", cf.name]
        out.append(entry)
    return jsonify(out)


def _field_meta(field_id: str, name: str, schema: dict, required: bool) -> dict:
    return {
        "fieldId": field_id,
        "key": field_id,
        "name": name,
        "required": required,
        "schema": schema,
        "operations": ["set"],
        "hasDefaultValue": False,
    }


@bp.get("/issue/createmeta/<ref>/issuetypes")
def createmeta_types(ref: str) -> ResponseReturnValue:
    _project(ref)
    types = [render.named(ctx(), "issuetype", t) for t in catalog.ISSUE_TYPES]
    return jsonify(startAt=0, maxResults=50, total=len(types), values=types, issueTypes=types)


@bp.get("/issue/createmeta/<ref>/issuetypes/<type_id>")
def createmeta_fields(ref: str, type_id: str) -> ResponseReturnValue:
    _project(ref)
    required = {"summary", "issuetype", "project"}
    settable = (
        "summary",
        "description",
        "issuetype",
        "project",
        "priority",
        "duedate",
        "labels",
        "components",
        "fixVersions",
        "assignee",
    )
    values = [
        _field_meta(fid, name, schema or {}, fid in required)
        for fid, name, schema in catalog.SYSTEM_FIELDS
        if fid in settable
    ]
    values += [
        _field_meta(cf.id, cf.name, cf.schema, False) for cf in sandbox().state.custom_fields
    ]
    return jsonify(startAt=0, maxResults=50, total=len(values), values=values, fields=values)
