"""Fakes what Jira does when someone changes an issue (through the REST API or as a human in the
UI): validates, applies the change, records history and raises the matching webhook event."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector_sandboxes.jira import catalog
from connector_sandboxes.jira.fields import (
    NOT_SETTABLE,
    FieldError,
    JiraError,
    apply_update_ops,
    item,
    set_field,
)
from connector_sandboxes.jira.state import (
    Comment,
    History,
    Issue,
    IssueLink,
    RemoteLink,
    State,
)

PROPERTY_LIMIT = 32768


@dataclass
class Event:
    """Something webhooks may be told about; rendered by the notifier at once."""

    name: str  # webhookEvent, e.g. "jira:issue_updated"
    issue: Issue
    actor: str
    type_name: str | None = None  # issue_event_type_name
    items: list[dict[str, Any]] = field(default_factory=list)
    comment: Comment | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Actions:
    """Every change to issues goes through here, so REST calls and human actions behave alike."""

    def __init__(self, state: State, notify: Callable[[Event], None]) -> None:
        self.state = state
        self.notify = notify

    def get(self, ref: str | int) -> Issue:
        issue = self.state.issue(ref)
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def create(self, fields: dict[str, Any], actor: str) -> Issue:
        state, errors = self.state, {}
        project = state.project(_ref_value(fields.get("project")))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        itype = catalog.find_by_name_or_id(catalog.ISSUE_TYPES, fields.get("issuetype"), "")
        if itype is None:
            errors["issuetype"] = (
                "Specify an issue type"
                if not fields.get("issuetype")
                else ("The issue type selected is invalid.")
            )
        if "summary" not in fields:
            errors["summary"] = "You must specify a summary of the issue."
        if errors or project is None or itype is None:
            raise JiraError(errors=errors)
        now = state.now()
        issue = Issue(
            id=state.next_id(),
            key=f"{project.key}-{project.next_number}",
            project_key=project.key,
            issuetype_id=itype["id"],
            summary="",
            reporter=actor,
            created=now,
            updated=now,
            status_changed=now,
        )
        rest = {k: v for k, v in fields.items() if k not in ("project", "issuetype", "reporter")}
        self._set_all(issue, rest)
        project.next_number += 1
        state.issues[issue.id] = issue
        state.keys[issue.key] = issue.id
        self.notify(Event("jira:issue_created", issue, actor, "issue_created"))
        return issue

    def edit(
        self,
        issue: Issue,
        fields: dict[str, Any],
        update: dict[str, Any],
        actor: str,
        properties: list[dict[str, Any]] | None = None,
        notify: bool = True,
    ) -> None:
        """Edit an issue; a field off the issue's edit screen fails the whole edit (as Jira
        does), and `properties` are set with it."""
        project = self.state.projects[issue.project_key]
        both = set(fields) & set(update)
        if both:
            errors = {n: f"Field '{n}' cannot be set in both fields and update" for n in both}
            raise JiraError(errors=errors)
        values = {**fields, **apply_update_ops(issue, project, update)}
        on_screen = self.state.screen_for(issue.project_key, issue.issuetype_id, "edit").fields()
        ids = {n: getattr(self.state.custom_field(n), "id", n) for n in values}
        off = [n for n, field_id in ids.items() if field_id not in on_screen]
        if off:
            raise JiraError(errors={n: NOT_SETTABLE.format(n) for n in off})
        items = self._set_all(issue, values)
        for prop in properties or []:
            issue.properties[str(prop["key"])] = prop.get("value")
        if items and notify:
            self.state.watcher_emails.append((issue.key, actor))
        comments = [op["add"] for op in update.get("comment", []) if "add" in op]
        if items:
            self._record(issue, actor, items)
            self.notify(Event("jira:issue_updated", issue, actor, "issue_updated", items))
        for body in comments:
            self.comment(issue, str(body.get("body", "")), actor)

    def _set_all(self, issue: Issue, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Validate and set every field on a copy first, so a 400 changes nothing."""
        project = self.state.projects[issue.project_key]
        trial = Issue(
            **{**issue.__dict__, "labels": list(issue.labels), "custom": dict(issue.custom)}
        )
        errors, items = {}, []
        for name, value in values.items():
            try:
                change = set_field(self.state, trial, project, name, value)
            except FieldError as exc:
                errors[name] = str(exc)
                continue
            if change:
                items.append(change)
        if errors:
            raise JiraError(errors=errors)
        issue.__dict__.update(trial.__dict__)
        return items

    def transitions(self, issue: Issue) -> tuple[catalog.Transition, ...]:
        return catalog.TRANSITIONS[issue.status_id]

    def transition(
        self, issue: Issue, transition_id: str, fields: dict[str, Any], actor: str
    ) -> None:
        chosen = next((t for t in self.transitions(issue) if t.id == str(transition_id)), None)
        if chosen is None:
            raise JiraError(
                messages=[f"Transition id '{transition_id}' is not valid for this issue."]
            )
        target = catalog.STATUS_BY_ID[chosen.to]
        unknown = set(fields) - ({"resolution"} if target.category == "done" else set())
        if unknown:
            raise JiraError(errors={n: NOT_SETTABLE.format(n) for n in unknown})
        resolution = None
        if target.category == "done":
            wanted = fields.get("resolution") or {"id": catalog.DEFAULT_RESOLUTION_ID}
            resolution = catalog.find_by_name_or_id(catalog.RESOLUTIONS, wanted, "")
            if resolution is None:
                raise JiraError(
                    errors={
                        "resolution": "Could not find valid 'id' or 'name' in resolution object."
                    }
                )
        now, items = self.state.now(), []
        new_res_id = resolution["id"] if resolution else None
        if new_res_id != issue.resolution_id:
            old = catalog.find_by_name_or_id(catalog.RESOLUTIONS, {"id": issue.resolution_id}, "")
            items.append(
                item(
                    "resolution",
                    issue.resolution_id,
                    new_res_id,
                    old and old["name"],
                    resolution and resolution["name"],
                )
            )
            issue.resolution_id = new_res_id
            issue.resolution_date = now if resolution else None
        source = catalog.STATUS_BY_ID[issue.status_id]
        items.append(item("status", source.id, target.id, source.name, target.name))
        if source.category != target.category:
            issue.status_changed = now
        issue.status_id = target.id
        self._record(issue, actor, items)
        self.notify(Event("jira:issue_updated", issue, actor, "issue_generic", items))

    def comment(self, issue: Issue, body: str, actor: str) -> Comment:
        if not body.strip():
            raise JiraError(errors={"comment": "Comment body can not be empty!"})
        now = self.state.now()
        comment = Comment(self.state.next_id(), actor, body, now, now)
        issue.comments.append(comment)
        issue.updated = now
        self.notify(Event("comment_created", issue, actor, comment=comment))
        self.notify(Event("jira:issue_updated", issue, actor, "issue_commented", comment=comment))
        return comment

    def upsert_remote_link(self, issue: Issue, body: dict[str, Any]) -> tuple[RemoteLink, bool]:
        obj = body.get("object")
        if not isinstance(obj, dict) or not obj.get("url") or not obj.get("title"):
            errors = {"object": "The object must contain at least 'url' and 'title'."}
            raise JiraError(errors=errors)
        global_id = body.get("globalId")
        for link in issue.remote_links:
            if global_id and link.global_id == global_id:
                link.body = body
                return link, False
        link = RemoteLink(int(self.state.next_id()), global_id, body)
        issue.remote_links.append(link)
        return link, True

    def set_property(self, issue: Issue, key: str, value: Any, actor: str) -> bool:
        if len(json.dumps(value).encode()) > PROPERTY_LIMIT:
            raise JiraError(messages=[f"The property value can not exceed {PROPERTY_LIMIT} bytes."])
        if len(key) > 255:
            raise JiraError(messages=["The property key can not be longer than 255 characters."])
        created = key not in issue.properties
        issue.properties[key] = value
        prop = {"key": key, "value": value}
        self.notify(Event("issue_property_set", issue, actor, extra={"property": prop}))
        return created

    def link(self, type_ref: Any, inward: Issue, outward: Issue, actor: str) -> IssueLink:
        link_type = catalog.find_by_name_or_id(catalog.LINK_TYPES, type_ref, "")
        if link_type is None:
            raise JiraError(404, [f"No issue link type with name '{_ref_value(type_ref)}' found."])
        for existing in self.state.links.values():
            if (existing.type_id, existing.inward_id, existing.outward_id) == (
                link_type["id"],
                inward.id,
                outward.id,
            ):
                return existing
        link = IssueLink(self.state.next_id(), link_type["id"], inward.id, outward.id)
        self.state.links[link.id] = link
        text = f"This issue {link_type['outward']} {outward.key}"
        items = [item("Link", None, outward.key, None, text)]
        self._record(inward, actor, items)
        outward.updated = inward.updated
        self.notify(Event("jira:issue_updated", inward, actor, "issue_generic", items))
        return link

    def move(self, issue: Issue, to_project: str, actor: str) -> None:
        project = self.state.project(to_project)
        if project is None:
            raise JiraError(errors={"project": "Specify a valid project ID or key"})
        if project.key == issue.project_key:
            return
        old_project = self.state.projects[issue.project_key]
        old_key, new_key = issue.key, f"{project.key}-{project.next_number}"
        project.next_number += 1
        items = [
            item("project", old_project.id, project.id, old_project.name, project.name),
            item("Key", None, None, old_key, new_key),
        ]
        issue.key, issue.project_key = new_key, project.key
        issue.component_ids, issue.fix_version_ids = [], []
        self.state.keys[new_key] = issue.id
        self._record(issue, actor, items)
        self.notify(Event("jira:issue_updated", issue, actor, "issue_moved", items))

    def delete(self, issue: Issue, actor: str) -> None:
        self.notify(Event("jira:issue_deleted", issue, actor, "issue_deleted"))
        del self.state.issues[issue.id]
        for key in [k for k, v in self.state.keys.items() if v == issue.id]:
            del self.state.keys[key]
        for link_id in [
            i for i, lk in self.state.links.items() if issue.id in (lk.inward_id, lk.outward_id)
        ]:
            del self.state.links[link_id]

    def _record(self, issue: Issue, actor: str, items: list[dict[str, Any]]) -> None:
        issue.updated = self.state.now()
        issue.history.append(History(self.state.next_id(), actor, issue.updated, items))


def _ref_value(ref: Any) -> Any:
    if isinstance(ref, dict):
        return ref.get("key") or ref.get("id") or ref.get("name")
    return ref
