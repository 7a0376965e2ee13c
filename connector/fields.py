"""The field catalog: every value that crosses between Jira and Zendesk, declared once.

`FACTS` are what the connector reads from a Jira issue; their values, keyed by name, are the
snapshot stored as `Problem.mirrored`. `TICKET_FIELDS` are the Zendesk ticket fields `connector
install` creates (their ids live under `zendesk.fields.<key>`); a field that `mirrors` a fact is
written by the mirror and the link confirmation, and its `material` facts earn the agents one
line of internal note when they change. Install, doctor, the config model, the mirror and the
confirmation all iterate this catalog, so a new mirrored field is one `TicketField` (plus a
`Fact` when its value comes from a new place in Jira).

This module imports nothing of the connector at run time, so every layer can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from connector.jira.models import JiraIssue

Value = str | None


# -- what the catalog reads of the config (the config module builds its field ids from the
# catalog, so the catalog names only the parts it reads, as protocols) -------------------------
class JiraConfig(Protocol):
    @property
    def solution_field(self) -> str | None: ...
    @property
    def solution_kind_field(self) -> str | None: ...
    @property
    def solution_comment_marker(self) -> str: ...


class _Team(Protocol):
    @property
    def name(self) -> str | None: ...


class Config(Protocol):
    @property
    def jira(self) -> JiraConfig: ...
    @property
    def teams(self) -> Mapping[str, _Team]: ...


# -- facts read from Jira ---------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    name: str  # key in the stored snapshot
    read: Callable[[JiraIssue, JiraConfig, str | None], Value]  # (issue, jira config, own account)


def agreed_solution(
    issue: JiraIssue, jira: JiraConfig, own_account: str | None
) -> tuple[Value, Value]:
    """Only where the config says: custom fields, or the latest comment with the marker.

    The description and ordinary comments stay internal to Jira.
    """
    text = _text(issue.fields.get(jira.solution_field)) if jira.solution_field else None
    kind = _text(issue.fields.get(jira.solution_kind_field)) if jira.solution_kind_field else None
    marker = jira.solution_comment_marker
    if text is None and marker:
        for comment in reversed(issue.comments):
            body = comment.body.strip()
            if body.startswith(marker) and comment.author != own_account:
                text = body.removeprefix(marker).strip() or None
                break
    return text, (kind.lower() if kind else None)


def _text(value: Any) -> Value:
    if isinstance(value, dict):  # a select field
        value = value.get("value")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


FACTS = (
    Fact("key", lambda issue, _jira, _own: issue.key),
    Fact("status", lambda issue, _jira, _own: issue.status),
    Fact("category", lambda issue, _jira, _own: issue.status_category),
    Fact("resolution", lambda issue, _jira, _own: issue.resolution),
    Fact(
        "expected_fix",
        lambda issue, _jira, _own: issue.expected_fix.isoformat() if issue.expected_fix else None,
    ),
    Fact("fix_version", lambda issue, _jira, _own: issue.fix_version),
    Fact("solution", lambda issue, jira, own: agreed_solution(issue, jira, own)[0]),
    Fact("solution_kind", lambda issue, jira, own: agreed_solution(issue, jira, own)[1]),
)
FACT_NAMES = frozenset(f.name for f in FACTS)


@dataclass(frozen=True)
class Snapshot:
    """What the tickets show of the issue: fact name -> value.

    A stored snapshot may come from an older or newer version: unknown keys are dropped, and a
    missing fact is unknown (`has` is false), not a change to report.
    """

    values: Mapping[str, Value]

    @classmethod
    def read(cls, issue: JiraIssue, config: Config, own_account: str | None) -> Snapshot:
        return cls({f.name: f.read(issue, config.jira, own_account) for f in FACTS})

    @classmethod
    def load(cls, stored: Mapping[str, Any] | None) -> Snapshot:
        return cls({k: v for k, v in (stored or {}).items() if k in FACT_NAMES})

    def __getitem__(self, fact: str) -> Value:
        return self.values.get(fact)

    def __bool__(self) -> bool:
        return bool(self.values)

    def has(self, fact: str) -> bool:
        return fact in self.values

    def as_dict(self) -> dict[str, Value]:
        return dict(self.values)


# -- how facts read in Zendesk ----------------------------------------------------------------
CATEGORIES = ("new", "indeterminate", "done")


@dataclass(frozen=True)
class Tags:
    """One tag per value of a fact (`prefix + value`), for views and triggers."""

    prefix: str
    fact: str
    values: tuple[str, ...]


def _category_note(before: Snapshot, after: Snapshot) -> str:
    key, status = after["key"], after["status"]
    if after["category"] == "done":
        return f"Jira issue {key} is resolved ({after['resolution'] or status})."
    if after["category"] == "indeterminate":
        return f"Work on Jira issue {key} has started ({status})."
    return f"Jira issue {key} is {status or 'open'}."


def _solution_note(before: Snapshot, after: Snapshot) -> str | None:
    if after["solution"]:
        kind = f" ({after['solution_kind']})" if after["solution_kind"] else ""
        return f"Agreed solution{kind}: {after['solution']}"
    return "The agreed solution was withdrawn." if before["solution"] else None


def _expected_fix_note(before: Snapshot, after: Snapshot) -> str | None:
    if after["expected_fix"]:
        return f"Expected fix: {after['expected_fix']}."
    return "The expected fix date was removed." if before["expected_fix"] else None


# An option's value is a tag on every ticket that picks it; a bare team key (`billing`) is a tag
# a real account may use for something else, so the connector's own prefix comes first.
TEAM_OPTION_PREFIX = "zdjira_team_"


def team_option(team: str) -> str:
    return f"{TEAM_OPTION_PREFIX}{team}"


def team_of_option(value: Any, teams: Mapping[str, object]) -> str | None:
    """The team an *Owning team* value names: `zdjira_team_billing`, or `billing` as installs
    before the prefix wrote it (until `connector install` moves the ticket to the new option)."""
    if not isinstance(value, str):
        return None
    team = value.removeprefix(TEAM_OPTION_PREFIX)
    return team if team in teams else None


def _team_options(config: Config) -> list[dict[str, str]]:
    return [{"name": t.name or key, "value": team_option(key)} for key, t in config.teams.items()]


NO_PROBLEM_OPTION = {"name": "(no open problem)", "value": "zdjira_none"}


def _known_problem_options(config: Config) -> list[dict[str, str]]:
    return [NO_PROBLEM_OPTION]  # the connector adds one option per open problem later


# Option values are tags, unique across all fields: the Suggested problem dropdown has its own.
NO_SUGGESTION_OPTION = {"name": "(no open problem)", "value": "zdjira_suggested_none"}


def _suggested_problem_options(config: Config) -> list[dict[str, str]]:
    return [NO_SUGGESTION_OPTION]


def _as_is(value: Value) -> Any:
    return value


@dataclass(frozen=True)
class TicketField:
    key: str  # under `zendesk.fields`
    title: str  # as install creates it (and finds it again)
    type: str  # Zendesk ticket field type
    description: str
    mirrors: str | None = None  # the fact the connector writes into it
    render: Callable[[Value], Any] = _as_is  # fact value -> Zendesk field value
    material: tuple[str, ...] = ()  # facts whose change earns `note`
    note: Callable[[Snapshot, Snapshot], str | None] | None = None  # (before, after) -> line
    tags: Tags | None = None
    options: Callable[[Config], list[dict[str, str]]] | None = None  # dropdown options
    options_kept_by_connector: bool = False  # install adds them once; sync keeps them

    def value(self, snapshot: Snapshot) -> Any:
        assert self.mirrors is not None
        return self.render(snapshot[self.mirrors])


# Order matters: install creates the fields in this order and a note lists its lines in it.
TICKET_FIELDS = (
    TicketField(
        "owning_team",
        "Owning team",
        "tagger",
        "Team that owns the cause of this problem",
        options=_team_options,
    ),
    TicketField(
        "known_problem",
        "Known problem",
        "tagger",
        "Link this ticket to an open problem",
        options=_known_problem_options,
        options_kept_by_connector=True,
    ),
    TicketField(
        "suggested_problem",
        "Suggested problem",
        "tagger",
        "The open problem this ticket is most alike to (set by the connector; to link, choose "
        "it in Known problem)",
        options=_suggested_problem_options,
        options_kept_by_connector=True,
    ),
    TicketField(
        "jira_issue",
        "Jira issue",
        "text",
        "Jira key of the problem (paste one to link)",
        mirrors="key",
    ),
    TicketField(
        "jira_status",
        "Jira status",
        "text",
        "Status of the linked Jira issue",
        mirrors="status",
        # A rename within a category is shown but not noted.
        material=("category",),
        note=_category_note,
        tags=Tags("jira_status_", "category", CATEGORIES),
    ),
    TicketField(
        "solution",
        "Agreed solution",
        "textarea",
        "The agreed customer-facing solution",
        mirrors="solution",
        material=("solution", "solution_kind"),  # one line tells both
        note=_solution_note,
    ),
    TicketField(
        "solution_kind",
        "Solution kind",
        "text",
        "fix, workaround, article or wont_fix",
        mirrors="solution_kind",
    ),
    TicketField(
        "expected_fix",
        "Expected fix",
        "date",
        "Due date or fix version release date",
        mirrors="expected_fix",
        material=("expected_fix",),
        note=_expected_fix_note,
    ),
)
MIRRORED_FIELDS = tuple(f for f in TICKET_FIELDS if f.mirrors is not None)
FIELD_KEYS = tuple(f.key for f in TICKET_FIELDS)
