"""Fakes Jira's issue endpoints: create, get, edit, delete, transitions, comments, remote links,
issue properties and issue links, over `/rest/api/2` (plain text) and `/rest/api/3` (ADF)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira import catalog, render
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.render import from_adf
from connector_sandboxes.jira.state import Issue
from connector_sandboxes.jira.web import actor, body, ctx, int_param, list_param, sandbox

bp = Blueprint("jira_issues", __name__, url_prefix="/rest/api/<any('2','3'):v>")


@bp.url_value_preprocessor
def _pull_version(endpoint: str | None, values: dict | None) -> None:
    g.api = (values or {}).pop("v", "2")


def _issue(ref: str) -> Issue:
    return sandbox().actions.get(ref)


def _text(value: Any) -> str:
    return from_adf(value) if isinstance(value, dict) else str(value or "")


@bp.post("/issue")
def create_issue() -> ResponseReturnValue:
    sb, data = sandbox(), body()
    fields = data.get("fields")
    if not isinstance(fields, dict):
        raise JiraError(400, ['Issue fields are required: {"fields": {...}}.'])
    with sb.state.lock:
        issue = sb.actions.create(fields, actor())
        rest = ctx().rest
        return jsonify({"id": issue.id, "key": issue.key, "self": f"{rest}/issue/{issue.id}"}), 201


@bp.get("/issue/<ref>")
def get_issue(ref: str) -> ResponseReturnValue:
    sb = sandbox()
    with sb.state.lock:
        issue = _issue(ref)
        bean = render.issue_bean(
            ctx(),
            sb.state,
            issue,
            fields=list_param("fields"),
            expand=request.args.get("expand", ""),
            properties=list_param("properties"),
        )
        if "transitions" in request.args.get("expand", ""):
            bean["transitions"] = _transitions(issue, False)
        return jsonify(bean)


@bp.put("/issue/<ref>")
def edit_issue(ref: str) -> ResponseReturnValue:
    sb, data = sandbox(), body()
    with sb.state.lock:
        issue = _issue(ref)
        properties = data.get("properties") or []
        if not isinstance(properties, list) or not all(
            isinstance(p, dict) and p.get("key") for p in properties
        ):
            raise JiraError(400, ["properties must be a list of {key, value}"])
        # The API account administers the site, so `notifyUsers=false` is honoured.
        notify = request.args.get("notifyUsers", "true") != "false"
        fields, update = data.get("fields") or {}, data.get("update") or {}
        sb.actions.edit(issue, fields, update, actor(), properties, notify)
        if request.args.get("returnIssue") == "true":
            return jsonify(render.issue_bean(ctx(), sb.state, issue))
    return "", 204


@bp.delete("/issue/<ref>")
def delete_issue(ref: str) -> ResponseReturnValue:
    sb = sandbox()
    with sb.state.lock:
        sb.actions.delete(_issue(ref), actor())
    return "", 204


def _transitions(issue: Issue, with_fields: bool) -> list[dict[str, Any]]:
    out = []
    for t in sandbox().actions.transitions(issue):
        target = catalog.STATUS_BY_ID[t.to]
        entry: dict[str, Any] = {"id": t.id, "name": t.name, "to": render.status(ctx(), target)}
        entry.update(hasScreen=target.category == "done", isGlobal=True, isInitial=False)
        entry.update(isAvailable=True, isConditional=False, looped=False)
        if with_fields:
            entry["fields"] = {}
            if target.category == "done":
                allowed = [render.named(ctx(), "resolution", r) for r in catalog.RESOLUTIONS]
                entry["fields"]["resolution"] = {
                    "required": True,
                    "schema": {"type": "resolution", "system": "resolution"},
                    "name": "Resolution",
                    "key": "resolution",
                    "operations": ["set"],
                    "allowedValues": allowed,
                }
        out.append(entry)
    return out


@bp.get("/issue/<ref>/transitions")
def list_transitions(ref: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        with_fields = "transitions.fields" in request.args.get("expand", "")
        found = _transitions(issue, with_fields)
        wanted = request.args.get("transitionId")
        found = [t for t in found if t["id"] == wanted] if wanted else found
        return jsonify(expand="transitions", transitions=found)


@bp.post("/issue/<ref>/transitions")
def do_transition(ref: str) -> ResponseReturnValue:
    sb, data = sandbox(), body()
    transition = data.get("transition") or {}
    if not isinstance(transition, dict) or "id" not in transition:
        raise JiraError(400, ["Missing 'transition' identifier"])
    with sb.state.lock:
        issue = _issue(ref)
        sb.actions.transition(issue, str(transition["id"]), data.get("fields") or {}, actor())
        for op in (data.get("update") or {}).get("comment", []):
            if "add" in op:
                sb.actions.comment(issue, _text(op["add"].get("body")), actor())
    return "", 204


@bp.get("/issue/<ref>/comment")
def list_comments(ref: str) -> ResponseReturnValue:
    sb = sandbox()
    with sb.state.lock:
        start, size = int_param("startAt", 0), int_param("maxResults", 5000)
        return jsonify(render.comments_page(ctx(), sb.state, _issue(ref), start, size))


@bp.post("/issue/<ref>/comment")
def add_comment(ref: str) -> ResponseReturnValue:
    sb, data = sandbox(), body()
    with sb.state.lock:
        issue = _issue(ref)
        comment = sb.actions.comment(issue, _text(data.get("body")), actor())
        return jsonify(render.comment(ctx(), sb.state, issue, comment)), 201


@bp.get("/issue/<ref>/comment/<comment_id>")
def get_comment(ref: str, comment_id: str) -> ResponseReturnValue:
    sb = sandbox()
    with sb.state.lock:
        issue = _issue(ref)
        for comment in issue.comments:
            if comment.id == comment_id:
                return jsonify(render.comment(ctx(), sb.state, issue, comment))
    raise JiraError(404, ["Can not find a comment for the id: " + comment_id])


def _remote(issue: Issue, link_id: int, global_id: str | None = None) -> dict[str, Any]:
    for link in issue.remote_links:
        if link.id == link_id or (global_id and link.global_id == global_id):
            out = {"id": link.id, "self": f"{ctx().rest}/issue/{issue.id}/remotelink/{link.id}"}
            return {**out, **{k: v for k, v in link.body.items() if k not in out}}
    raise JiraError(404, ["No remote link with the given id or globalId exists."])


@bp.get("/issue/<ref>/remotelink")
def list_remote_links(ref: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        wanted = request.args.get("globalId")
        if wanted:
            return jsonify(_remote(issue, -1, wanted))
        return jsonify([_remote(issue, link.id) for link in issue.remote_links])


@bp.post("/issue/<ref>/remotelink")
def upsert_remote_link(ref: str) -> ResponseReturnValue:
    sb, data = sandbox(), body()
    with sb.state.lock:
        issue = _issue(ref)
        link, created = sb.actions.upsert_remote_link(issue, data)
        out = {"id": link.id, "self": f"{ctx().rest}/issue/{issue.id}/remotelink/{link.id}"}
        return jsonify(out), 201 if created else 200


@bp.get("/issue/<ref>/remotelink/<int:link_id>")
def get_remote_link(ref: str, link_id: int) -> ResponseReturnValue:
    with sandbox().state.lock:
        return jsonify(_remote(_issue(ref), link_id))


@bp.delete("/issue/<ref>/remotelink/<int:link_id>")
@bp.delete("/issue/<ref>/remotelink")
def delete_remote_link(ref: str, link_id: int = -1) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        found = _remote(issue, link_id, request.args.get("globalId"))
        issue.remote_links = [lk for lk in issue.remote_links if lk.id != found["id"]]
    return "", 204


@bp.get("/issue/<ref>/properties")
def list_properties(ref: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        base = f"{ctx().rest}/issue/{issue.id}/properties"
        return jsonify(keys=[{"self": f"{base}/{k}", "key": k} for k in issue.properties])


@bp.get("/issue/<ref>/properties/<key>")
def get_property(ref: str, key: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        if key not in issue.properties:
            raise JiraError(404, [f"The property with key '{key}' does not exist."])
        return jsonify(key=key, value=issue.properties[key])


@bp.put("/issue/<ref>/properties/<key>")
def set_property(ref: str, key: str) -> ResponseReturnValue:
    sb = sandbox()
    value = request.get_json(silent=True, force=True)
    if value is None and request.get_data().strip() != b"null":
        raise JiraError(400, ["The property value must be valid JSON."])
    with sb.state.lock:
        created = sb.actions.set_property(_issue(ref), key, value, actor())
    return "", 201 if created else 200


@bp.delete("/issue/<ref>/properties/<key>")
def delete_property(ref: str, key: str) -> ResponseReturnValue:
    with sandbox().state.lock:
        issue = _issue(ref)
        if issue.properties.pop(key, None) is None:
            raise JiraError(404, [f"The property with key '{key}' does not exist."])
    return "", 204


@bp.post("/issueLink")
def create_link() -> ResponseReturnValue:
    sb, data = sandbox(), body()
    with sb.state.lock:
        refs = [(data.get(side) or {}) for side in ("inwardIssue", "outwardIssue")]
        inward, outward = (_issue(str(r.get("key") or r.get("id"))) for r in refs)
        sb.actions.link(data.get("type"), inward, outward, actor())
        comment = data.get("comment")
        if isinstance(comment, dict) and comment.get("body"):
            sb.actions.comment(outward, _text(comment["body"]), actor())
    return "", 201


@bp.get("/issueLink/<link_id>")
def get_link(link_id: str) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        link = state.links.get(link_id)
        if link is None:
            raise JiraError(404, ["No issue link with id '" + link_id + "' exists."])
        link_type = next(t for t in catalog.LINK_TYPES if t["id"] == link.type_id)
        return jsonify(
            {
                "id": link.id,
                "self": f"{ctx().rest}/issueLink/{link.id}",
                "type": render.named(ctx(), "issueLinkType", link_type),
                "inwardIssue": render.linked_issue(ctx(), state.issues[link.inward_id]),
                "outwardIssue": render.linked_issue(ctx(), state.issues[link.outward_id]),
            }
        )


@bp.delete("/issueLink/<link_id>")
def delete_link(link_id: str) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        if state.links.pop(link_id, None) is None:
            raise JiraError(404, ["No issue link with id '" + link_id + "' exists."])
    return "", 204
