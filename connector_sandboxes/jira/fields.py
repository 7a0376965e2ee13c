"""Fakes Jira's field validation and editing: turns request values into stored values, answers
invalid ones with Jira's per-field error messages, and records changelog items."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from connector_sandboxes.jira import catalog
from connector_sandboxes.jira.render import from_adf, user_ref
from connector_sandboxes.jira.state import Issue, Project, State

NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
LIST_FIELDS = ("labels", "components", "fixVersions")
TEXT_LIMIT = 32767


class JiraError(Exception):
    """An error answered with Jira's shape: `{"errorMessages": [...], "errors": {...}}`."""

    def __init__(
        self, status: int = 400, messages: list[str] | None = None, errors: dict | None = None
    ) -> None:
        super().__init__(messages or errors)
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors or {}}


class FieldError(Exception):
    pass


def item(field: str, old: Any, new: Any, old_str: Any, new_str: Any, custom: str = "") -> dict:
    return {
        "field": field,
        "fieldtype": "custom" if custom else "jira",
        "fieldId": custom or field,
        "from": None if old is None else str(old),
        "fromString": None if old_str is None else str(old_str),
        "to": None if new is None else str(new),
        "toString": None if new_str is None else str(new_str),
    }


def _text(value: Any, name: str, limit: int = TEXT_LIMIT) -> str | None:
    if isinstance(value, dict):
        value = from_adf(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"Field '{name}' must be a string.")
    if len(value) > limit:
        raise FieldError(f"The entered text is too long. It exceeds the allowed limit of {limit}.")
    return value or None


def _ref(items: tuple[dict, ...], value: Any, message: str) -> dict:
    found = catalog.find_by_name_or_id(items, value, "")
    if found is None:
        raise FieldError(message)
    return found


def _project_refs(entries: dict[str, str], value: Any, what: str) -> list[str]:
    if not isinstance(value, list):
        raise FieldError(f"data was not an array of {what}s")
    ids = []
    for ref in value:
        name = ref.get("name") if isinstance(ref, dict) else ref
        ref_id = str(ref.get("id")) if isinstance(ref, dict) and "id" in ref else None
        match = [i for i, n in entries.items() if i == ref_id or n == name]
        if not match:
            raise FieldError(f"{what.title()} name '{name or ref_id}' is not valid")
        ids.append(match[0])
    return ids


def _duedate(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise FieldError(f"Error parsing date string: {value}") from None


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError("data was not an array of strings")
    for label in value:
        if re.search(r"\s", label):
            raise FieldError(f"The label '{label}' contains spaces which is invalid.")
        if len(label) > 255:
            raise FieldError("The label must not exceed 255 characters.")
    return list(dict.fromkeys(value))


def _custom(cf: catalog.CustomField, value: Any) -> Any:
    if value is None:
        return None
    if cf.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FieldError("Operation value must be a number")
        return float(value)
    if cf.kind == "select":
        choice = value.get("value") or value.get("id") if isinstance(value, dict) else value
        if choice not in cf.options:
            raise FieldError(f"Option value '{choice}' is not valid")
        return choice
    return _text(value, cf.name, 255 if cf.kind == "textfield" else TEXT_LIMIT)


def set_field(state: State, issue: Issue, project: Project, name: str, value: Any) -> dict | None:
    """Set one field; return its changelog item, or None when nothing changed."""
    cf = state.custom_field(name) if name.startswith("customfield_") else None
    if cf:
        old, new = issue.custom.get(cf.id), _custom(cf, value)
        if old == new:
            return None
        issue.custom[cf.id] = new
        return item(cf.name, None, None, old, new, custom=cf.id)
    if name == "summary":
        text = _text(value, name, 255)
        if not text:
            raise FieldError("You must specify a summary of the issue.")
        if "\n" in text:
            raise FieldError("The summary is invalid because it contains newline characters.")
        old_summary, issue.summary = issue.summary, text
        return item(name, None, None, old_summary, text) if old_summary != text else None
    if name == "description":
        old_text, issue.description = issue.description, _text(value, name)
        changed = old_text != issue.description
        return item(name, None, None, old_text, issue.description) if changed else None
    if name == "priority":
        new_p = _ref(catalog.PRIORITIES, value, f"Priority name '{_name(value)}' is not valid")
        old_p = next(p for p in catalog.PRIORITIES if p["id"] == issue.priority_id)
        issue.priority_id = new_p["id"]
        changed = old_p is not new_p
        return (
            item(name, old_p["id"], new_p["id"], old_p["name"], new_p["name"]) if changed else None
        )
    if name == "issuetype":
        new_t = _ref(catalog.ISSUE_TYPES, value, "The issue type selected is invalid.")
        old_id, issue.issuetype_id = issue.issuetype_id, new_t["id"]
        return (
            item(name, old_id, new_t["id"], None, new_t["name"]) if old_id != new_t["id"] else None
        )
    if name == "duedate":
        old_due, issue.duedate = issue.duedate, _duedate(value)
        changed = old_due != issue.duedate
        return item(name, old_due, issue.duedate, old_due, issue.duedate) if changed else None
    if name == "labels":
        old_labels, issue.labels = issue.labels, _labels(value)
        changed = old_labels != issue.labels
        return (
            item(name, None, None, " ".join(old_labels), " ".join(issue.labels))
            if changed
            else None
        )
    if name in ("components", "fixVersions"):
        if name == "components":
            ids = _project_refs(project.components, value, "component")
            old_ids, issue.component_ids = issue.component_ids, ids
            names = project.components
        else:
            versions = {v.id: v.name for v in project.versions.values()}
            ids = _project_refs(versions, value, "version")
            old_ids, issue.fix_version_ids = issue.fix_version_ids, ids
            names = versions
        if old_ids == ids:
            return None
        as_text = [", ".join(names.get(i, i) for i in group) for group in (old_ids, ids)]
        field = "Component" if name == "components" else "Fix Version"
        return item(field, ",".join(old_ids), ",".join(ids), *as_text)
    if name == "assignee":
        found = state.find_user(value) if value is not None else None
        if value is not None and found is None:
            raise FieldError(f"User '{_user_text(value)}' does not exist.")
        account = found.account_id if found else None
        old_a, issue.assignee = issue.assignee, account
        if old_a == account:
            return None
        return item(name, user_ref(state, old_a), user_ref(state, account), None, None)
    raise FieldError(NOT_SETTABLE.format(name))


def apply_update_ops(issue: Issue, project: Project, update: dict[str, Any]) -> dict[str, Any]:
    """Turn `update` operations (add/remove/set) into plain field values."""
    fields: dict[str, Any] = {}
    for name, ops in update.items():
        if name == "comment":
            continue
        if not isinstance(ops, list):
            raise JiraError(errors={name: "Operations must be a list"})
        current: Any = _current_list(issue, project, name) if name in LIST_FIELDS else None
        for op in ops:
            for verb, arg in op.items():
                if verb == "set":
                    current = arg
                elif verb == "add" and isinstance(current, list):
                    current = [*current, arg] if arg not in current else current
                elif verb == "remove" and isinstance(current, list):
                    current = [c for c in current if c != arg and not _same_ref(c, arg)]
                else:
                    raise JiraError(errors={name: f"Operation '{verb}' is not supported"})
        fields[name] = current
    return fields


def _current_list(issue: Issue, project: Project, name: str) -> list:
    if name == "labels":
        return list(issue.labels)
    if name == "components":
        return [{"name": project.components[i]} for i in issue.component_ids]
    return [{"name": project.versions[i].name} for i in issue.fix_version_ids]


def _same_ref(a: Any, b: Any) -> bool:
    return isinstance(a, dict) and isinstance(b, dict) and a.get("name") == b.get("name")


def _name(value: Any) -> Any:
    return value.get("name", value.get("id")) if isinstance(value, dict) else value


def _user_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("accountId") or value.get("name") or value.get("key"))
    return str(value)
