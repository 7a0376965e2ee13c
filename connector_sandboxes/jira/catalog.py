"""Fakes a Jira site's fixed configuration: statuses, workflow, priorities, resolutions, issue
types, link types and custom fields, with the ids and shapes Jira Cloud uses for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Status categories as Jira ships them (ids are integers in the REST API).
STATUS_CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
UNDEFINED_CATEGORY = {
    "id": 1,
    "key": "undefined",
    "colorName": "medium-gray",
    "name": "No Category",
}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str


STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Done", "done"),
)
STATUS_BY_NAME = {s.name.lower(): s for s in STATUSES}
STATUS_BY_ID = {s.id: s for s in STATUSES}
INITIAL_STATUS = STATUSES[0]


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # status id


# The simplified workflow: transitions are named after their target status; Done reopens to To Do.
TRANSITIONS: dict[str, tuple[Transition, ...]] = {
    "10000": (Transition("21", "In Progress", "3"), Transition("31", "Done", "10001")),
    "3": (Transition("11", "To Do", "10000"), Transition("31", "Done", "10001")),
    "10001": (Transition("11", "To Do", "10000"),),
}

PRIORITIES = (
    {"id": "1", "name": "Highest", "statusColor": "#d04437"},
    {"id": "2", "name": "High", "statusColor": "#f15C75"},
    {"id": "3", "name": "Medium", "statusColor": "#f79232"},
    {"id": "4", "name": "Low", "statusColor": "#707070"},
    {"id": "5", "name": "Lowest", "statusColor": "#999999"},
)
DEFAULT_PRIORITY_ID = "3"

RESOLUTIONS = (
    {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."},
    {"id": "10001", "name": "Won't Do", "description": "This issue won't be actioned."},
    {"id": "10002", "name": "Duplicate", "description": "The problem is a duplicate of another."},
    {"id": "10003", "name": "Fixed", "description": "A fix for this issue is checked in."},
)
DEFAULT_RESOLUTION_ID = "10000"

ISSUE_TYPES = (
    {"id": "10001", "name": "Task", "description": "A small, distinct piece of work."},
    {"id": "10002", "name": "Bug", "description": "A problem or error."},
)

LINK_TYPES = (
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    kind: str  # textfield | textarea | float | datetime | select
    options: tuple[str, ...] = ()

    @property
    def numeric_id(self) -> int:
        return int(self.id.removeprefix("customfield_"))

    @property
    def schema(self) -> dict[str, Any]:
        json_type = {"float": "number", "select": "option", "datetime": "datetime"}.get(
            self.kind, "string"
        )
        return {"type": json_type, "custom": _CF + self.kind, "customId": self.numeric_id}


CUSTOM_FIELDS = (
    CustomField("customfield_10050", "Customer solution", "textarea"),
    CustomField("customfield_10051", "Solution kind", "textfield"),
    CustomField("customfield_10052", "Linked tickets", "float"),
    CustomField("customfield_10053", "Affected organizations", "float"),
    CustomField("customfield_10054", "Customer value", "float"),
    CustomField(
        "customfield_10055", "Root cause", "select", ("Defect", "Documentation", "Process")
    ),
)

# System fields as `GET /field` lists them: (id, name, schema, navigable, orderable).
SYSTEM_FIELDS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("summary", "Summary", {"type": "string", "system": "summary"}),
    ("description", "Description", {"type": "string", "system": "description"}),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
    ("project", "Project", {"type": "project", "system": "project"}),
    ("status", "Status", {"type": "status", "system": "status"}),
    ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
    ("priority", "Priority", {"type": "priority", "system": "priority"}),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
    ("components", "Components", {"type": "array", "items": "component", "system": "components"}),
    ("fixVersions", "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}),
    ("created", "Created", {"type": "datetime", "system": "created"}),
    ("updated", "Updated", {"type": "datetime", "system": "updated"}),
    ("statuscategorychangedate", "Status Category Changed", {"type": "datetime"}),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}),
    ("creator", "Creator", {"type": "user", "system": "creator"}),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}),
    ("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks"}),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}),
    ("issuekey", "Key", None),
)
# Fields no screen holds: set by Jira itself (or, for comments, through their own endpoints).
NOT_ON_SCREENS = frozenset(
    {
        "project",
        "status",
        "resolutiondate",
        "created",
        "updated",
        "statuscategorychangedate",
        "creator",
        "issuekey",
        "comment",
        "resolution",
    }
)
NAVIGABLE_SYSTEM_FIELDS = tuple(f[0] for f in SYSTEM_FIELDS if f[0] not in ("comment", "issuekey"))
ALL_FIELD_IDS = tuple(f[0] for f in SYSTEM_FIELDS if f[0] != "issuekey") + tuple(
    cf.id for cf in CUSTOM_FIELDS
)


def find_by_name_or_id(
    items: tuple[dict[str, Any], ...], ref: Any, what: str
) -> dict[str, Any] | None:
    """Resolve `{"name": ...}`, `{"id": ...}` or a bare string to one of `items`."""
    if isinstance(ref, dict):
        if "id" in ref:
            return next((i for i in items if i["id"] == str(ref["id"])), None)
        ref = ref.get("name")
    if not isinstance(ref, str):
        return None
    return next((i for i in items if i["name"].lower() == ref.lower() or i["id"] == ref), None)


def custom_field(ref: str, fields: Sequence[CustomField] = CUSTOM_FIELDS) -> CustomField | None:
    """A custom field by id (`customfield_10050`), JQL clause (`cf[10050]`) or name, among the
    site's fields (the fixed ones, or `State.custom_fields` with those an admin created)."""
    low = ref.lower()
    for cf in fields:
        if low in (cf.id, f"cf[{cf.numeric_id}]", cf.name.lower()):
            return cf
    return None


def _permission(pid: str, name: str, kind: str) -> dict[str, str]:
    return {"id": pid, "name": name, "type": kind, "description": f"Ability to {name.lower()}."}


PERMISSIONS = {
    "ADMINISTER": _permission("0", "Administer Jira", "GLOBAL"),
    "BROWSE_PROJECTS": _permission("10", "Browse Projects", "PROJECT"),
    "CREATE_ISSUES": _permission("11", "Create Issues", "PROJECT"),
    "EDIT_ISSUES": _permission("12", "Edit Issues", "PROJECT"),
    "TRANSITION_ISSUES": _permission("46", "Transition Issues", "PROJECT"),
    "ADD_COMMENTS": _permission("15", "Add Comments", "PROJECT"),
    "ADMINISTER_PROJECTS": _permission("23", "Administer Projects", "PROJECT"),
}


def permissions_of(is_admin: bool) -> set[str]:
    """The connector's account administers the site; the engineer works in the projects."""
    if is_admin:
        return set(PERMISSIONS)
    return {"BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS"}
