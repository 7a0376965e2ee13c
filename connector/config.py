"""The config file (`config/connector.yaml`): teams, linking rules, priorities, outcomes, replies.

Validated once at start; every problem is reported as `<file>: <dotted.key>: <problem>`.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from connector.errors import ConfigError
from connector.fields import TICKET_FIELDS
from connector.settings import DEFAULT_CONFIG_PATH

TEMPLATE_VARIABLES = frozenset({"solution", "issue_key", "fix_version", "due_date"})
JIRA_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]+$")
WORKAROUND = "workaround"  # the reply to an agreed workaround, sent before the issue resolves


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FieldIds(Strict):
    def id_of(self, key: str) -> int | None:
        value: int | None = getattr(self, key)
        return value


# One optional id per ticket field of the catalog (`connector.fields.TICKET_FIELDS`), built from
# it at import so a new field needs no edit here. Type checkers cannot see a model built at run
# time, so they are told that every attribute is an id.
if TYPE_CHECKING:

    class ZendeskFields(_FieldIds):
        def __getattr__(self, key: str) -> int | None: ...

else:
    ZendeskFields = create_model(
        "ZendeskFields",
        __base__=_FieldIds,
        **{spec.key: (int | None, None) for spec in TICKET_FIELDS},
    )


class ZendeskConfig(Strict):
    fields: ZendeskFields = Field(default_factory=ZendeskFields)
    webhook_id: str | None = None  # written by `connector install`
    trigger_id: int | None = None
    organization_value_field: str | None = None  # the field's key: Zendesk returns values by key
    include_personal_data: bool = False


class ImpactFields(Strict):
    """Jira custom field ids (`connector install` creates the fields and writes them)."""

    tickets: str | None = None
    open_tickets: str | None = None
    organizations: str | None = None
    value: str | None = None
    last_report: str | None = None  # date-time: the newest creation time of a linked ticket


class JiraConfig(Strict):
    webhook_id: str | None = None  # written by `connector install`
    solution_field: str | None = None
    solution_kind_field: str | None = None
    solution_comment_marker: str = "#customer-reply"
    impact_fields: ImpactFields = Field(default_factory=ImpactFields)


class Team(Strict):
    jira_project: str
    issue_type: str = "Task"
    name: str | None = None
    components: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)

    @field_validator("jira_project")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not JIRA_PROJECT_KEY.match(value):
            raise ValueError(f"'{value}' is not a Jira project key (upper-case letters and digits)")
        return value


class RuleCondition(Strict):
    tags_any: list[str] = Field(default_factory=list)
    tags_all: list[str] = Field(default_factory=list)
    fields: dict[int, str] = Field(default_factory=dict)
    brand_id: int | None = None
    subject_pattern: str | None = None

    @field_validator("subject_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> RuleCondition:
        if not (
            self.tags_any or self.tags_all or self.fields or self.brand_id or self.subject_pattern
        ):
            raise ValueError("a rule needs at least one condition")
        return self


class Rule(Strict):
    team: str
    cause: str = Field(min_length=1)
    when: RuleCondition


class PriorityStep(Strict):
    priority: str
    min_tickets: int | None = Field(default=None, ge=1)
    min_organizations: int | None = Field(default=None, ge=1)
    min_value: float | None = Field(default=None, ge=0)
    # Tickets created in Zendesk in the last 24 hours (a rate, not a total).
    min_tickets_per_day: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _has_threshold(self) -> PriorityStep:
        thresholds = (
            self.min_tickets,
            self.min_organizations,
            self.min_value,
            self.min_tickets_per_day,
        )
        if all(t is None for t in thresholds):
            raise ValueError(
                "needs min_tickets, min_organizations, min_value or min_tickets_per_day"
            )
        return self


class ReplyTemplate(Strict):
    status: Literal["solved", "pending", "open", "hold"] = "solved"
    body: str = Field(min_length=1)
    public: bool = True

    @field_validator("body")
    @classmethod
    def _known_variables(cls, value: str) -> str:
        try:
            names = {
                m.group("named") or m.group("braced")
                for m in string.Template.pattern.finditer(value)
                if m.group("named") or m.group("braced")
            }
        except ValueError as exc:  # pragma: no cover - pattern is total
            raise ValueError(str(exc)) from None
        unknown = names - TEMPLATE_VARIABLES
        if unknown:
            raise ValueError(
                f"unknown variable ${{{sorted(unknown)[0]}}} "
                f"(known: {', '.join('${' + n + '}' for n in sorted(TEMPLATE_VARIABLES))})"
            )
        return value


class Replies(Strict):
    require_approval: bool = False
    closed_tickets: Literal["followup", "skip"] = "followup"
    send_workaround: bool = False
    templates: dict[str, ReplyTemplate | None] = Field(default_factory=dict)


class Emerging(Strict):
    """Emerging causes: recent unlinked tickets alike to each other, proposed as a problem."""

    enabled: bool = True
    window_hours: int = Field(default=24, ge=1)
    min_tickets: int = Field(default=5, ge=2)
    min_organizations: int = Field(default=3, ge=1)
    similarity: float = Field(default=0.55, gt=0, le=1)  # cosine of two tickets' vectors
    tag: bool = False  # tag a proposal's tickets zdjira_proposal_<id>, for a Zendesk view


class Suggestions(Strict):
    """Which open problem a new ticket is alike to (field and note), auto-link, proposals."""

    enabled: bool = True
    min_confidence: float = Field(default=0.5, gt=0, le=1)
    auto_link_confidence: float | None = Field(default=None, gt=0, le=1)  # None: off
    retention_days: int = Field(default=30, ge=1)  # vectors of tickets no longer linked or new
    emerging: Emerging = Field(default_factory=Emerging)

    @model_validator(mode="after")
    def _thresholds(self) -> Suggestions:
        auto = self.auto_link_confidence
        if auto is not None and auto < self.min_confidence:
            raise _KeyProblem(
                "suggestions.auto_link_confidence",
                f"{auto} is below suggestions.min_confidence ({self.min_confidence}): a ticket "
                "would be linked without being suggested",
            )
        return self


class Config(Strict):
    # Names this installation in what it leaves in Jira (the creation marker label), so two
    # installations sharing a Jira site never take each other's issues; written by `install`.
    install_id: str | None = Field(default=None, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    zendesk: ZendeskConfig = Field(default_factory=ZendeskConfig)
    jira: JiraConfig = Field(default_factory=JiraConfig)
    teams: dict[str, Team] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    priority: list[PriorityStep] = Field(default_factory=list)
    impact_debounce_seconds: int = Field(default=60, ge=0)
    mirror_debounce_seconds: int = Field(default=20, ge=0)
    known_problem_grace_hours: int = Field(default=24, ge=0)
    empty_problem_grace_hours: int = Field(default=24, ge=0)
    reconcile_interval_seconds: int = Field(default=300, ge=10)
    outcomes: dict[str, str] = Field(default_factory=dict)
    replies: Replies = Field(default_factory=Replies)
    suggestions: Suggestions = Field(default_factory=Suggestions)

    @model_validator(mode="after")
    def _references(self) -> Config:
        for index, rule in enumerate(self.rules):
            if rule.team not in self.teams:
                raise _KeyProblem(
                    f"rules.{index}.team",
                    f"unknown team '{rule.team}' (known: {', '.join(sorted(self.teams))})",
                )
        _check_templates(self.outcomes, self.replies)
        return self

    def install_id_for(self, zendesk_url: object) -> str:
        """`install_id`, or by default the Zendesk subdomain (`acme` of acme.zendesk.com)."""
        if self.install_id:
            return self.install_id
        host = urlsplit(str(zendesk_url or "")).hostname or "zendesk"
        host = host.removesuffix(".zendesk.com")
        return "-".join(re.findall(r"[a-z0-9]+", host.lower()))[:40] or "zendesk"

    def team_for_project(self, project_key: str) -> str | None:
        for key, team in self.teams.items():
            if team.jira_project == project_key:
                return key
        return None


def _check_templates(outcomes: dict[str, str], replies: Replies) -> None:
    """Every outcome has a template key and every template key is reachable, so a typo never
    turns a customer's reply into a silent internal note. `null` says "internal note only"."""
    reachable = set(outcomes.values()) | {WORKAROUND}
    for key in replies.templates:
        if key not in reachable:
            known = ", ".join(sorted(set(outcomes.values()))) or "none"
            raise _KeyProblem(
                f"replies.templates.{key}",
                f"'{key}' is neither an outcome (the values under outcomes: {known}) "
                f"nor {WORKAROUND}",
            )
    for resolution, outcome in outcomes.items():
        if outcome not in replies.templates:
            raise _KeyProblem(
                f"outcomes.{resolution}",
                f"outcome '{outcome}' has no template: add replies.templates.{outcome} "
                "(null = internal note only)",
            )
    if replies.send_workaround and WORKAROUND not in replies.templates:
        raise _KeyProblem(
            f"replies.templates.{WORKAROUND}",
            "required when replies.send_workaround is true (null = internal note only)",
        )


class _KeyProblem(ValueError):
    """Raised inside a validator to report a problem at a specific dotted key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def embedded_defaults_text() -> str:
    return resources.files("connector.defaults").joinpath("connector.yaml").read_text("utf-8")


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> Config:
    """Load and validate the config file; the default path falls back to the embedded defaults."""
    source = str(path)
    file = Path(path)
    if file.exists():
        text = file.read_text("utf-8")
    elif source == DEFAULT_CONFIG_PATH:
        text, source = embedded_defaults_text(), "embedded defaults"
    else:
        raise ConfigError(source, "", "file not found")
    return parse_config(text, source)


def parse_config(text: str, source: str) -> Config:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(source, "", f"not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(source, "", "expected a mapping at the top level")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _config_error(source, exc) from None


def _config_error(source: str, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, _KeyProblem):
        return ConfigError(source, cause.key, cause.problem)
    message = first["msg"].removeprefix("Value error, ")
    return ConfigError(source, key or "(top level)", message[:1].lower() + message[1:])
