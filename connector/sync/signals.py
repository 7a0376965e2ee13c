"""What a ticket says about its problem: the linking signals an agent (or a rule) sets.

Pure functions over the connector's Ticket model and the config; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from connector.config import Config, Rule
from connector.fields import team_of_option
from connector.store.models import LinkVia
from connector.zendesk.models import Ticket

KNOWN_PROBLEM_PREFIX = "zdjira_problem_"
JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9_]+-\d+)\b")
OPEN_STATUSES = frozenset({"new", "open", "pending", "hold"})


@dataclass(frozen=True)
class Signals:
    problem_team: str | None = None  # a Problem ticket with an Owning team
    incident_of: int | None = None  # the problem ticket an incident points to
    known_problem: int | None = None  # problem id chosen in the Known problem dropdown
    jira_key: str | None = None  # a key in the Jira issue field
    rule: str | None = None  # "team:cause" of the first matching routing rule

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def value(self, via: LinkVia) -> Any:
        return getattr(self, SIGNAL_OF[via])


# Precedence when several signals are set: the most specific agent action first.
ORDER = (
    LinkVia.PROBLEM_TICKET,
    LinkVia.INCIDENT,
    LinkVia.KNOWN_PROBLEM,
    LinkVia.JIRA_FIELD,
    LinkVia.RULE,
)
SIGNAL_OF = {
    LinkVia.PROBLEM_TICKET: "problem_team",
    LinkVia.INCIDENT: "incident_of",
    LinkVia.KNOWN_PROBLEM: "known_problem",
    LinkVia.JIRA_FIELD: "jira_key",
    LinkVia.RULE: "rule",
}


# The tag the connector adds with its suggestion note (and an auto-link's Known problem value),
# in the same update: on a ticket, it proves that update landed.
SUGGESTION_NOTED_PREFIX = "zdjira_suggestion_noted_"


def suggestion_noted_tag(problem_id: int) -> str:
    return f"{SUGGESTION_NOTED_PREFIX}{problem_id}"


def known_problem_value(problem_id: int) -> str:
    return f"{KNOWN_PROBLEM_PREFIX}{problem_id}"


def parse_known_problem(value: Any) -> int | None:
    if isinstance(value, str) and value.startswith(KNOWN_PROBLEM_PREFIX):
        suffix = value.removeprefix(KNOWN_PROBLEM_PREFIX)
        return int(suffix) if suffix.isdigit() else None
    return None


def parse_jira_key(value: Any) -> str | None:
    """The first Jira key in the field ("fin-12", a pasted URL ... all work)."""
    if not isinstance(value, str):
        return None
    match = JIRA_KEY.search(value.strip().upper())
    return match.group(1) if match else None


def rule_matches(rule: Rule, ticket: Ticket) -> bool:
    when = rule.when
    tags = set(ticket.tags)
    if when.tags_any and not tags.intersection(when.tags_any):
        return False
    if when.tags_all and not tags.issuperset(when.tags_all):
        return False
    for field_id, expected in when.fields.items():
        if str(ticket.field(field_id)) != str(expected):
            return False
    if when.brand_id is not None and ticket.brand_id != when.brand_id:
        return False
    return not (
        when.subject_pattern
        and not re.search(when.subject_pattern, ticket.subject or "", re.IGNORECASE)
    )


def rule_cause(rule: Rule) -> str:
    return f"{rule.team}:{rule.cause}"


def read_signals(ticket: Ticket, config: Config) -> Signals:
    fields = config.zendesk.fields
    team = team_of_option(ticket.field(fields.owning_team), config.teams)
    is_problem = ticket.type == "problem" and team is not None
    rule = next((r for r in config.rules if rule_matches(r, ticket)), None)
    return Signals(
        problem_team=team if is_problem else None,
        incident_of=ticket.problem_id if ticket.type == "incident" else None,
        known_problem=parse_known_problem(ticket.field(fields.known_problem)),
        jira_key=parse_jira_key(ticket.field(fields.jira_issue)),
        rule=rule_cause(rule) if rule else None,
    )
