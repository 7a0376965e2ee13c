"""Fakes Jira's JSON representations: issues, users, projects, comments and reference data, in
v2 (plain text) or v3 (Atlassian Document Format for description and comment bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector_sandboxes.jira import catalog
from connector_sandboxes.jira.state import Comment, Issue, Project, State, User, jira_time


@dataclass(frozen=True)
class Ctx:
    """Where links point: the server's base URL and the REST version being answered."""

    base: str
    api: str = "2"
    cloud: bool = True  # Data Center names users by `name` and `key`, not `accountId`

    @property
    def rest(self) -> str:
        return f"{self.base}/rest/api/{self.api}"


def to_adf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []}
        for p in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def from_adf(node: Any) -> str:
    """Plain text of an ADF document: paragraphs become lines."""
    if not isinstance(node, dict):
        return str(node)
    if node.get("type") == "text":
        return str(node.get("text", ""))
    parts = [from_adf(child) for child in node.get("content", [])]
    return ("\n" if node.get("type") == "doc" else "").join(parts)


def rich(ctx: Ctx, text: str | None) -> Any:
    return to_adf(text) if ctx.api == "3" else text


def user(ctx: Ctx, u: User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    if not ctx.cloud:
        return dc_user(ctx, u)
    avatar = f"{ctx.base}/secure/useravatar?ownerId={u.account_id}"
    return {
        "self": f"{ctx.rest}/user?accountId={u.account_id}",
        "accountId": u.account_id,
        "emailAddress": u.email,
        "avatarUrls": {size: f"{avatar}&size={size}" for size in ("16x16", "24x24", "48x48")},
        "displayName": u.display_name,
        "active": True,
        "timeZone": "UTC",
        "accountType": "atlassian",
    }


def dc_user(ctx: Ctx, u: User) -> dict[str, Any]:
    """Data Center's user bean: `name` (the username) and `key`, no `accountId`."""
    avatar = f"{ctx.base}/secure/useravatar?ownerId={u.key}"
    return {
        "self": f"{ctx.rest}/user?username={u.name}",
        "key": u.key,
        "name": u.name,
        "emailAddress": u.email,
        "avatarUrls": {size: f"{avatar}&size={size}" for size in ("16x16", "24x24", "48x48")},
        "displayName": u.display_name,
        "active": True,
        "timeZone": "UTC",
    }


def user_ref(state: State, account_id: str | None) -> str | None:
    """How the site names a user in flat fields: the accountId on Cloud, the key on DC."""
    u = state.user(account_id)
    if u is None:
        return None
    return u.account_id if state.cloud else u.key


def status_category(ctx: Ctx, key: str) -> dict[str, Any]:
    cat = catalog.STATUS_CATEGORIES[key]
    return {"self": f"{ctx.rest}/statuscategory/{cat['id']}", **cat}


def status(ctx: Ctx, s: catalog.Status) -> dict[str, Any]:
    return {
        "self": f"{ctx.rest}/status/{s.id}",
        "description": "",
        "iconUrl": f"{ctx.base}/images/icons/statuses/generic.png",
        "name": s.name,
        "id": s.id,
        "statusCategory": status_category(ctx, s.category),
    }


def named(ctx: Ctx, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """Priority, resolution, issue type or link type with its `self` link."""
    out = {"self": f"{ctx.rest}/{kind}/{item['id']}", **item}
    if kind == "priority":
        out["iconUrl"] = f"{ctx.base}/images/icons/priorities/{item['name'].lower()}.svg"
    if kind == "issuetype":
        out.update(iconUrl=f"{ctx.base}/images/icons/issuetypes/task.svg", subtask=False)
        out.update(hierarchyLevel=0, avatarId=10318)
    return out


def project(ctx: Ctx, p: Project, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{ctx.rest}/project/{p.id}",
        "id": p.id,
        "key": p.key,
        "name": p.name,
        "projectTypeKey": "software",
        "simplified": p.team_managed,
        "style": "next-gen" if p.team_managed else "classic",
        "avatarUrls": {"48x48": f"{ctx.base}/secure/projectavatar?pid={p.id}"},
    }
    if full:
        out["components"] = [component(ctx, cid, name) for cid, name in p.components.items()]
        out["versions"] = [version(ctx, p, vid) for vid in p.versions]
        out["issueTypes"] = [named(ctx, "issuetype", t) for t in catalog.ISSUE_TYPES]
        out.update(style="classic", isPrivate=False, archived=False, description="")
    return out


def component(ctx: Ctx, cid: str, name: str) -> dict[str, Any]:
    return {"self": f"{ctx.rest}/component/{cid}", "id": cid, "name": name}


def version(ctx: Ctx, p: Project, vid: str) -> dict[str, Any]:
    v = p.versions[vid]
    out: dict[str, Any] = {"self": f"{ctx.rest}/version/{v.id}", "id": v.id, "name": v.name}
    out.update(archived=False, released=v.released, projectId=int(p.id))
    if v.release_date:
        out["releaseDate"] = v.release_date
    return out


def comment(ctx: Ctx, state: State, issue: Issue, c: Comment) -> dict[str, Any]:
    author = user(ctx, state.user(c.author))
    return {
        "self": f"{ctx.rest}/issue/{issue.id}/comment/{c.id}",
        "id": c.id,
        "author": author,
        "body": rich(ctx, c.body),
        "updateAuthor": author,
        "created": jira_time(c.created),
        "updated": jira_time(c.updated),
        "jsdPublic": True,
    }


def comments_page(ctx: Ctx, state: State, issue: Issue, start: int = 0, size: int = 5000) -> dict:
    shown = issue.comments[start : start + size]
    return {
        "comments": [comment(ctx, state, issue, c) for c in shown],
        "maxResults": size if shown else 0,
        "total": len(issue.comments),
        "startAt": start,
    }


def linked_issue(ctx: Ctx, issue: Issue) -> dict[str, Any]:
    fields = {
        "summary": issue.summary,
        "status": status(ctx, catalog.STATUS_BY_ID[issue.status_id]),
        "priority": named(ctx, "priority", _by_id(catalog.PRIORITIES, issue.priority_id)),
        "issuetype": named(ctx, "issuetype", _by_id(catalog.ISSUE_TYPES, issue.issuetype_id)),
    }
    return {
        "id": issue.id,
        "key": issue.key,
        "self": f"{ctx.rest}/issue/{issue.id}",
        "fields": fields,
    }


def issue_links(ctx: Ctx, state: State, issue: Issue) -> list[dict[str, Any]]:
    out = []
    for link in state.links.values():
        if issue.id not in (link.inward_id, link.outward_id):
            continue
        entry = {
            "id": link.id,
            "self": f"{ctx.rest}/issueLink/{link.id}",
            "type": named(ctx, "issueLinkType", _by_id(catalog.LINK_TYPES, link.type_id)),
        }
        if link.inward_id == issue.id:
            entry["outwardIssue"] = linked_issue(ctx, state.issues[link.outward_id])
        else:
            entry["inwardIssue"] = linked_issue(ctx, state.issues[link.inward_id])
        out.append(entry)
    return out


def all_fields(ctx: Ctx, state: State, issue: Issue) -> dict[str, Any]:
    p = state.projects[issue.project_key]
    resolution = _by_id(catalog.RESOLUTIONS, issue.resolution_id) if issue.resolution_id else None
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "description": rich(ctx, issue.description),
        "issuetype": named(ctx, "issuetype", _by_id(catalog.ISSUE_TYPES, issue.issuetype_id)),
        "project": project(ctx, p, full=False),
        "status": status(ctx, catalog.STATUS_BY_ID[issue.status_id]),
        "resolution": named(ctx, "resolution", resolution) if resolution else None,
        "resolutiondate": jira_time(issue.resolution_date) if issue.resolution_date else None,
        "priority": named(ctx, "priority", _by_id(catalog.PRIORITIES, issue.priority_id)),
        "duedate": issue.duedate,
        "labels": list(issue.labels),
        "components": [component(ctx, c, p.components[c]) for c in issue.component_ids],
        "fixVersions": [version(ctx, p, v) for v in issue.fix_version_ids],
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
        "statuscategorychangedate": jira_time(issue.status_changed),
        "reporter": user(ctx, state.user(issue.reporter)),
        "creator": user(ctx, state.user(issue.reporter)),
        "assignee": user(ctx, state.user(issue.assignee)),
        "issuelinks": issue_links(ctx, state, issue),
        "comment": comments_page(ctx, state, issue),
    }
    for cf in state.custom_fields:
        value = issue.custom.get(cf.id)
        if cf.kind == "select" and value is not None:
            value = {"self": f"{ctx.rest}/customFieldOption/{value}", "value": value, "id": value}
        fields[cf.id] = value
    return fields


def select_fields(state: State, requested: list[str] | None, default: str = "*all") -> set[str]:
    """Apply Jira's `fields` parameter: `*all`, `*navigable`, names, `-name` exclusions."""
    names = [n.strip() for n in (requested or [default]) if n.strip()] or [default]
    chosen: set[str] = set()
    for name in names:
        if name == "*all":
            chosen |= set(catalog.ALL_FIELD_IDS) | {c.id for c in state.custom_fields}
        elif name == "*navigable":
            chosen |= set(catalog.NAVIGABLE_SYSTEM_FIELDS) | {c.id for c in state.custom_fields}
        elif not name.startswith("-"):
            cf = state.custom_field(name)
            chosen.add(cf.id if cf else name)
    return chosen - {n[1:] for n in names if n.startswith("-")}


def issue_bean(
    ctx: Ctx,
    state: State,
    issue: Issue,
    fields: list[str] | None = None,
    expand: str = "",
    properties: list[str] | None = None,
    default_fields: str = "*all",
) -> dict[str, Any]:
    chosen = select_fields(state, fields, default_fields)
    out: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog",
        "id": issue.id,
        "self": f"{ctx.rest}/issue/{issue.id}",
        "key": issue.key,
    }
    if chosen - {"id", "key"}:
        every = all_fields(ctx, state, issue)
        out["fields"] = {k: v for k, v in every.items() if k in chosen}
    wanted = {e.strip() for e in (expand or "").split(",")}
    if "names" in wanted:
        out["names"] = {f[0]: f[1] for f in catalog.SYSTEM_FIELDS}
        out["names"].update({cf.id: cf.name for cf in state.custom_fields})
    if "schema" in wanted:
        out["schema"] = {f[0]: f[2] for f in catalog.SYSTEM_FIELDS if f[2]}
        out["schema"].update({cf.id: cf.schema for cf in state.custom_fields})
    if "changelog" in wanted:
        out["changelog"] = changelog(ctx, state, issue)
    if "renderedFields" in wanted:
        out["renderedFields"] = {"description": issue.description or ""}
    if properties:
        out["properties"] = {k: issue.properties[k] for k in properties if k in issue.properties}
    return out


def changelog(ctx: Ctx, state: State, issue: Issue) -> dict[str, Any]:
    histories = [
        {
            "id": h.id,
            "author": user(ctx, state.user(h.author)),
            "created": jira_time(h.created),
            "items": h.items,
        }
        for h in issue.history
    ]
    return {
        "startAt": 0,
        "maxResults": len(histories),
        "total": len(histories),
        "histories": histories,
    }


def _by_id(items: tuple[dict[str, Any], ...], item_id: str | None) -> dict[str, Any]:
    return next(i for i in items if i["id"] == item_id)
