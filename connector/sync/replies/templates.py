"""What a linked customer reads: the outcome's template with the connector's variables filled in.

`${solution}`, `${issue_key}`, `${fix_version}` and `${due_date}` are filled here
(`string.Template.safe_substitute`); Zendesk placeholders (`{{ticket.requester.first_name}}`,
`{{dc.*}}`) in the admin's template are left untouched so Zendesk renders them per ticket and
language. The values filled in come from Jira and are data: their Liquid delimiters are broken up
(`connector.zendesk.text.inert`), so a solution holding `{{ticket.requester.email}}` reaches the
customer as that text, not as the address. Only the agreed customer-facing solution reaches the
customer, never the Jira description or comments.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

from connector.config import Config, ReplyTemplate
from connector.zendesk.text import inert

TAG_PREFIX = "zdjira_reply"
NOTE_TAG_PREFIX = "zdjira_note"
NO_TEMPLATE = object()


@dataclass(frozen=True)
class Facts:
    """The mirrored facts a reply may quote."""

    problem_id: int
    issue_key: str | None
    outcome: str
    solution: str | None
    fix_version: str | None
    due_date: date | None
    resolution: str | None = None


@dataclass(frozen=True)
class Rendered:
    """One update for every ticket of the run: public reply or internal note, tag, status."""

    body: str
    public: bool
    status: str | None
    tag: str

    @property
    def kind(self) -> str:
        return "reply" if self.public else "note"


def reply_tag(problem_id: int, outcome: str, *, public: bool = True) -> str:
    """The tag that proves a ticket got this outcome's update (it lands in the same update):
    `zdjira_reply_*` for a public reply to the customer, `zdjira_note_*` for an internal note
    (the customer was not answered), so the tag never claims a reply that was not sent."""
    safe = "".join(c if c.isalnum() else "_" for c in outcome.lower())
    prefix = TAG_PREFIX if public else NOTE_TAG_PREFIX
    return f"{prefix}_{problem_id}_{safe}"


def template_for(config: Config, outcome: str) -> ReplyTemplate | object | None:
    """The outcome's template, None for "internal note only", NO_TEMPLATE when unconfigured."""
    templates = config.replies.templates
    return templates.get(outcome, NO_TEMPLATE)


def uses_solution(template: ReplyTemplate | object | None) -> bool:
    return isinstance(template, ReplyTemplate) and _names(template.body) & {"solution"} != set()


def render(config: Config, facts: Facts) -> Rendered:
    template = template_for(config, facts.outcome)
    if isinstance(template, ReplyTemplate):
        body = string.Template(template.body).safe_substitute(_values(facts))
        tag = reply_tag(facts.problem_id, facts.outcome, public=template.public)
        return Rendered(body=body, public=template.public, status=template.status, tag=tag)
    note = _note(facts, configured=template is None)
    tag = reply_tag(facts.problem_id, facts.outcome, public=False)
    return Rendered(body=note, public=False, status=None, tag=tag)


def _values(facts: Facts) -> dict[str, str]:
    return {
        "solution": inert((facts.solution or "").strip()),
        "issue_key": inert(facts.issue_key or ""),
        "fix_version": inert(facts.fix_version or ""),
        "due_date": facts.due_date.isoformat() if facts.due_date else "",
    }


def _note(facts: Facts, *, configured: bool) -> str:
    key = facts.issue_key or f"problem {facts.problem_id}"
    how = f" as {facts.resolution}" if facts.resolution else ""
    if configured:
        why = "No customer reply is configured for this outcome."
    else:
        why = (
            "There is no reply template for this outcome (config replies.templates), "
            "so the customer was not answered."
        )
    lines = [f"Jira issue {key}: outcome '{facts.outcome}'{how}. {why}"]
    if facts.solution:
        lines.append(f"Agreed solution: {facts.solution.strip()}")
    lines.append(
        "Next step: answer the customer yourself (the solution above, if any, is what the team "
        "agreed), then solve the ticket."
    )
    return inert("\n".join(lines))  # connector text and Jira's values: no placeholder


def problem_ticket_note(issue_key: str | None, outcome: str, *, public: bool) -> str:
    """The internal note on an agent's problem ticket: what the customers got, and why the
    connector leaves the ticket's status alone."""
    got = "the reply" if public else "an internal note (no customer reply is configured)"
    return inert(
        f"Jira issue {issue_key or 'of this problem'} is resolved (outcome '{outcome}'). "
        f"The linked tickets got {got}. This problem ticket is left as it is: solving it makes "
        "Zendesk copy its comment onto every unsolved incident, so solve it once they are all "
        "answered."
    )


def _names(body: str) -> set[str]:
    return {
        m.group("named") or m.group("braced")
        for m in string.Template.pattern.finditer(body)
        if m.group("named") or m.group("braced")
    }
