"""Fakes a Jira site's data: users, projects, issues with their comments, remote links,
properties, links and history, held in memory behind one re-entrant lock."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector_sandboxes.jira import catalog

DEFAULT_PROJECTS = ("FIN", "DOC", "ENG", "SHIP")
PROJECT_NAMES = {"FIN": "Finance", "DOC": "Documentation", "ENG": "Engineering", "SHIP": "Shipping"}


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format: `2026-11-26T00:54:34.000+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class User:
    account_id: str  # the sandbox's own id for the user; Cloud shows it as `accountId`
    email: str
    display_name: str
    name: str  # Data Center's username (can be renamed)
    key: str  # Data Center's user key (stable; `JIRAUSER<n>` for users made since Jira 8)


@dataclass
class Version:
    id: str
    name: str
    release_date: str | None
    released: bool


@dataclass
class Project:
    id: str
    key: str
    name: str
    components: dict[str, str]  # id -> name
    versions: dict[str, Version]
    next_number: int = 1
    team_managed: bool = False  # its fields live in each issue type's layout, not on screens


@dataclass
class Comment:
    id: str
    author: str
    body: str
    created: datetime
    updated: datetime


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    body: dict[str, Any]


@dataclass
class History:
    id: str
    author: str
    created: datetime
    items: list[dict[str, Any]]


@dataclass
class IssueLink:
    id: str
    type_id: str
    inward_id: str  # the issue the outward text describes: "<inward> duplicates <outward>"
    outward_id: str


@dataclass
class Webhook:
    id: int
    name: str
    url: str
    events: list[str]
    jql: str | None
    exclude_body: bool
    secret: str | None
    enabled: bool
    last_updated: datetime
    last_updated_by: str


@dataclass
class Issue:
    id: str
    key: str
    project_key: str
    issuetype_id: str
    summary: str
    reporter: str
    created: datetime
    description: str | None = None
    status_id: str = catalog.INITIAL_STATUS.id
    resolution_id: str | None = None
    resolution_date: datetime | None = None
    priority_id: str = catalog.DEFAULT_PRIORITY_ID
    duedate: str | None = None
    labels: list[str] = field(default_factory=list)
    component_ids: list[str] = field(default_factory=list)
    fix_version_ids: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    assignee: str | None = None
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    status_changed: datetime = field(default_factory=lambda: datetime.now(UTC))
    comments: list[Comment] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    history: list[History] = field(default_factory=list)


@dataclass
class Screen:
    """A screen with its tabs (tab id -> (name, field ids in order))."""

    id: int
    name: str
    tabs: dict[int, tuple[str, list[str]]]

    def fields(self) -> set[str]:
        return {f for _, fields in self.tabs.values() for f in fields}


@dataclass
class ScreenScheme:
    id: int
    name: str
    screens: dict[str, int]  # default | create | edit | view -> screen id


@dataclass
class IssueTypeScreenScheme:
    id: int
    name: str
    mapping: dict[str, int]  # issue type id or "default" -> screen scheme id
    project_ids: list[str]


class State:
    """Everything the sandbox knows. Hold `lock` while reading or changing it."""

    def __init__(
        self,
        email: str,
        projects: tuple[str, ...] = DEFAULT_PROJECTS,
        deployment_type: str = "Cloud",
    ) -> None:
        self.lock = threading.RLock()
        self.deployment_type = deployment_type
        self.api_user = User(
            "5f0c1a0e2b3c4d5e6f700001", email, "Connector API", "connector", "JIRAUSER10000"
        )
        self.humans = [
            User(
                "5f0c1a0e2b3c4d5e6f700002",
                "engineer@example.com",
                "Erin Engineer",
                "erin",
                "JIRAUSER10100",
            ),
            User(
                "5f0c1a0e2b3c4d5e6f700003", "lead@example.com", "Lee Lead", "lee", "JIRAUSER10101"
            ),
        ]
        self.users = {u.account_id: u for u in [self.api_user, *self.humans]}
        self.project_keys = projects
        self.clock_offset = timedelta()
        self.base_url = "http://127.0.0.1"
        self._init_data()

    def _init_data(self) -> None:
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}  # id -> issue
        self.keys: dict[str, str] = {}  # current and former keys -> id
        self.links: dict[str, IssueLink] = {}
        self.webhooks: dict[int, Webhook] = {}
        self._webhook_ids = itertools.count(1)
        self._ids = itertools.count(10000)
        self._last_now = datetime.min.replace(tzinfo=UTC)
        self.custom_fields: list[catalog.CustomField] = list(catalog.CUSTOM_FIELDS)
        self._field_ids = itertools.count(10100)
        self.screens: dict[int, Screen] = {}
        self.screen_schemes: dict[int, ScreenScheme] = {}
        self.type_screen_schemes: dict[int, IssueTypeScreenScheme] = {}
        self._screen_ids = itertools.count(10000)
        self.tasks: dict[str, dict[str, Any]] = {}  # async tasks (deleting a custom field)
        self.watcher_emails: list[tuple[str, str]] = []  # (issue key, actor) per notified edit
        for index, key in enumerate(self.project_keys):
            self._add_project(key, index)

    def reset(self) -> None:
        with self.lock:
            self.clock_offset = timedelta()
            self._init_data()

    def next_id(self) -> str:
        return str(next(self._ids))

    def next_webhook_id(self) -> int:
        return next(self._webhook_ids)

    def now(self) -> datetime:
        """Wall clock plus `clock_offset`, strictly increasing so `updated` orders changes."""
        moment = datetime.now(UTC) + self.clock_offset
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if moment <= self._last_now:
            moment = self._last_now + timedelta(milliseconds=1)
        self._last_now = moment
        return moment

    def _add_project(self, key: str, index: int) -> None:
        components = {self.next_id(): "Support"}
        if key == "ENG":
            components[self.next_id()] = "API"
        versions = {}
        for name, date, released in (("1.0", "2026-06-30", True), ("2.0", "2026-12-15", False)):
            version = Version(self.next_id(), name, date, released)
            versions[version.id] = version
        project_id = str(10000 + index)
        name = PROJECT_NAMES.get(key, key.title())
        self.projects[key] = Project(project_id, key, name, components, versions)
        self._add_screens(key, project_id)

    def _add_screens(self, key: str, project_id: str) -> None:
        """A company-managed project's own screens: one screen for every operation, holding the
        system fields and the site's fixed custom fields (a new custom field is on no screen)."""
        system = [f[0] for f in catalog.SYSTEM_FIELDS if f[0] not in catalog.NOT_ON_SCREENS]
        fields = system + [cf.id for cf in catalog.CUSTOM_FIELDS]
        screen = Screen(next(self._screen_ids), f"{key}: Default Screen", {})
        screen.tabs[next(self._screen_ids)] = ("Field Tab", fields)
        scheme = ScreenScheme(
            next(self._screen_ids), f"{key}: Screen Scheme", {"default": screen.id}
        )
        types = IssueTypeScreenScheme(
            next(self._screen_ids),
            f"{key}: Issue Type Screen Scheme",
            {"default": scheme.id},
            [project_id],
        )
        self.screens[screen.id] = screen
        self.screen_schemes[scheme.id] = scheme
        self.type_screen_schemes[types.id] = types

    def share_screens(self, keys: list[str]) -> None:
        """Let these projects use the first one's issue type screen scheme (as projects created
        with a shared configuration do)."""
        with self.lock:
            first, *rest = (self.projects[k].id for k in keys)
            shared = self.type_screen_scheme(first)
            for project_id in rest:
                self.type_screen_scheme(project_id).project_ids.remove(project_id)
                shared.project_ids.append(project_id)

    def type_screen_scheme(self, project_id: str) -> IssueTypeScreenScheme:
        return next(t for t in self.type_screen_schemes.values() if project_id in t.project_ids)

    def screen_for(self, project_key: str, issuetype_id: str, operation: str) -> Screen:
        """The screen Jira shows for an operation (`create`, `edit`, `view`) on an issue."""
        types = self.type_screen_scheme(self.projects[project_key].id)
        scheme = self.screen_schemes[types.mapping.get(issuetype_id, types.mapping["default"])]
        return self.screens[scheme.screens.get(operation, scheme.screens["default"])]

    def add_custom_field(self, name: str, kind: str) -> catalog.CustomField:
        field = catalog.CustomField(f"customfield_{next(self._field_ids)}", name, kind)
        self.custom_fields.append(field)
        return field

    def custom_field(self, ref: str) -> catalog.CustomField | None:
        return catalog.custom_field(ref, self.custom_fields)

    def project(self, ref: str | int | None) -> Project | None:
        """A project by key, id or name."""
        ref = str(ref)
        for project in self.projects.values():
            if ref.upper() == project.key or ref == project.id or ref == project.name:
                return project
        return None

    def issue(self, ref: str | int) -> Issue | None:
        """An issue by id, key or a key it had before it moved."""
        ref = str(ref).upper()
        issue_id = self.keys.get(ref, ref)
        return self.issues.get(issue_id)

    @property
    def cloud(self) -> bool:
        return self.deployment_type == "Cloud"

    def user(self, account_id: str | None) -> User | None:
        return self.users.get(account_id or "")

    def find_user(self, ref: dict[str, Any] | str | None) -> User | None:
        """A user as a request names one: `{"accountId"}` on Cloud; `{"name"}` or `{"key"}`
        on Data Center, which has no account ids."""
        if isinstance(ref, str):
            ref = {"accountId": ref} if self.cloud else {"name": ref}
        if not isinstance(ref, dict):
            return None
        for u in self.users.values():
            if self.cloud and ref.get("accountId") == u.account_id:
                return u
            if not self.cloud and (ref.get("name") == u.name or ref.get("key") == u.key):
                return u
        return None
