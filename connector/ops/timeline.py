"""A problem's timeline as people read it: each audit entry's action as a label ("Ticket
linked", not `link`), its details as a short sentence, and who did it by name ("Dana Scully",
not `agent:361000000002`; "agent 361000000002" only while the name is unknown).

An action without a label here (a new one) still reads as words: `problem.dormant` would be
"Problem dormant".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

AGENT_PREFIX = "agent:"

LABELS = {
    "problem.created": "Problem created",
    "jira.created": "Jira issue created",
    "jira.adopted": "Jira issue adopted",
    "jira.moved": "Jira issue moved",
    "jira.deleted": "Jira issue deleted",
    "link": "Ticket linked",
    "unlink": "Ticket unlinked",
    "move": "Ticket moved here",
    "move.out": "Ticket moved away",
    "mirror.note": "Note added to the linked tickets",
    "priority.raised": "Priority raised",
    "priority.human": "Priority set by a person in Jira",
    "resolved": "Issue resolved",
    "reopened": "Issue reopened",
    "replies.approved": "Replies approved",
    "replies.retried": "Failed replies sent again",
    "problem.dormant": "Left the open list",
    "problem.active_again": "Back in the open list",
}

HOW_LINKED = {
    "problem_ticket": "it is the problem ticket",
    "incident": "an incident of the problem ticket",
    "known_problem": "the Known problem field",
    "jira_field": "the Jira issue field",
    "rule": "a linking rule",
    "relink": "linked again",
    "suggestion": "the suggestion engine",
    "proposal": "an accepted proposed problem",
    "duplicate": "its issue was a duplicate",
    "ticket deleted": "the ticket was deleted in Zendesk",
}

ACTORS = {
    "zendesk": "Zendesk",
    "jira": "Jira",
    "rule": "a linking rule",
    "dashboard": "an admin (dashboard)",
    "api": "an admin (API)",
    "cli": "an admin (command line)",
    "connector": "the connector",
    "suggestion": "the suggestion engine",
}


def label(action: str) -> str:
    found = LABELS.get(action)
    if found:
        return found
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def describe(action: str, detail: Mapping[str, Any] | None) -> str:
    """The entry's details as a short sentence ("" when it has none)."""
    if not detail:
        return ""
    sentence = SENTENCES.get(action)
    if sentence is not None:
        try:
            return sentence(detail)
        except (KeyError, TypeError, ValueError):
            pass  # an older entry of another shape: fall back to its fields
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(detail.items()))


def agent_id(actor: str | None) -> int | None:
    """The Zendesk user id in an `agent:<id>` actor."""
    if actor and actor.startswith(AGENT_PREFIX) and actor[len(AGENT_PREFIX) :].isdigit():
        return int(actor[len(AGENT_PREFIX) :])
    return None


def actor_name(actor: str | None, users: Mapping[int, str]) -> str | None:
    if not actor:
        return None
    user = agent_id(actor)
    if user is not None:
        return users.get(user) or f"agent {user}"
    return ACTORS.get(actor, actor)


def _how(detail: Mapping[str, Any]) -> str:
    how = str(detail["via"])
    said = HOW_LINKED.get(how, how)
    confidence = detail.get("confidence")
    if isinstance(confidence, int | float):
        said += f" ({round(confidence * 100)}% alike)"
    return said


def _count(n: Any, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _replies(n: Any) -> str:
    return "reply" if n == 1 else "replies"


def _when(iso: Any) -> str:
    return datetime.fromisoformat(str(iso)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _resolved(detail: Mapping[str, Any]) -> str:
    outcome = detail.get("outcome")
    answer = f"outcome {outcome}" if outcome else "no outcome configured for it"
    return f"resolution {detail.get('resolution') or 'none'}, {answer}"


def _cause(detail: Mapping[str, Any]) -> str:
    source, _, rest = str(detail["cause"]).partition(":")
    if source == "zendesk":
        return f"from problem ticket #{rest}"
    if source == "rule":
        return f"by the rule for {rest.partition(':')[2] or rest}"
    if source == "jira":
        return "from a Jira issue pasted on a ticket"
    if source == "proposal":
        return f"from proposed problem #{rest}, accepted"
    return str(detail["cause"])


SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "problem.created": _cause,
    "jira.created": lambda d: str(d["key"]),
    "jira.adopted": lambda d: str(d["key"]),
    "jira.moved": lambda d: f"{d['from']} is now {d['to']}",
    "jira.deleted": lambda d: f"{d['key']}; {_count(d['tickets'], 'ticket')} told",
    "link": _how,
    "unlink": _how,
    "move": _how,
    "move.out": lambda d: str(d["via"]),
    "mirror.note": lambda d: f"{_count(d['tickets'], 'ticket')}, saying \u201c{d['note']}\u201d",
    "priority.raised": lambda d: f"to {d['priority']} at {_count(d['tickets'], 'ticket')}",
    "resolved": _resolved,
    "reopened": lambda d: f"status {d['status']}",
    "replies.approved": lambda d: f"the {d['outcome']} reply",
    "replies.retried": lambda d: f"{d['tickets']} {d['outcome']} {_replies(d['tickets'])}",
    "problem.dormant": lambda d: f"no ticket linked since {_when(d['empty_since'])}",
}
