"""The demo's summary, counted from what customers and engineers would see (the sandboxes'
tickets, comments and issues), not from the connector's own records."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from connector.config import WORKAROUND
from connector.demo.stack import LocalStack
from connector.store.models import Link, Problem, ProblemState
from connector.sync.replies.templates import TAG_PREFIX
from connector.sync.suggestions.service import SUGGESTION_NOTE


@dataclass
class Summary:
    problems: int
    tickets: int
    linked: int
    replies_sent: int
    workaround_replies: int  # of replies_sent: the agreed workaround, sent before the fix
    followups: int
    duplicate_replies: int
    unanswered: int
    jira_issues: int
    jira_calls: int
    zendesk_calls: int
    suggested: int = 0  # tickets with the connector's suggestion note
    proposals_accepted: int = 0  # problems created from a proposed problem
    seconds: float = 0.0
    tickets_asked: int | None = None  # `--tickets`; each story needs a few, small asks grow

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    stack: LocalStack, customer_tickets: list[int], seconds: float, asked: int | None = None
) -> Summary:
    zendesk = stack.zendesk
    admin = zendesk.admin_user_id
    all_tickets = {t["id"]: t for t in zendesk.tickets()}
    followups_of: dict[int, list[int]] = defaultdict(list)
    for ticket in all_tickets.values():
        source = ((ticket.get("via") or {}).get("source") or {}).get("from") or {}
        if source.get("ticket_id"):
            followups_of[int(source["ticket_id"])].append(int(ticket["id"]))

    def replies(ticket_id: int) -> int:
        own = [c for c in zendesk.comments(ticket_id) if c["public"] and c["author_id"] == admin]
        return len(own) + sum(replies(f) for f in followups_of.get(ticket_id, []))

    def reply_tags(ticket_id: int) -> set[str]:
        """Reply tags on the ticket and its follow-ups: one per outcome replied."""
        family = [ticket_id, *followups_of.get(ticket_id, [])]
        return {tag for t in family for tag in all_tickets[t]["tags"] if tag.startswith(TAG_PREFIX)}

    def outcomes(ticket_id: int) -> int:
        return len(reply_tags(ticket_id))

    with stack.rt.db.session() as session:
        links = dict(session.execute(select(Link.ticket_id, Link.problem_id)).all())
        problems = {p.id: p for p in session.scalars(select(Problem))}
    duplicates = unanswered = sent = workarounds = 0
    for ticket_id in customer_tickets:
        count = replies(ticket_id)
        sent += count
        if count and any(tag.endswith(f"_{WORKAROUND}") for tag in reply_tags(ticket_id)):
            workarounds += 1
        duplicates += max(0, count - max(outcomes(ticket_id), 1)) if count else 0
        problem = problems.get(links.get(ticket_id, -1))
        if problem is not None and problem.state is ProblemState.RESOLVED and count == 0:
            unanswered += 1
    return Summary(
        problems=len(problems),
        tickets=len(customer_tickets),
        linked=len([t for t in customer_tickets if t in links]),
        replies_sent=sent,
        workaround_replies=workarounds,
        followups=sum(len(v) for v in followups_of.values()),
        duplicate_replies=duplicates,
        unanswered=unanswered,
        jira_issues=len(stack.jira.issue_keys()),
        jira_calls=stack.jira.total_calls(),
        zendesk_calls=zendesk.total_calls(),
        seconds=round(seconds, 1),
        suggested=sum(
            1
            for ticket_id in customer_tickets
            if any(
                not c["public"] and c["author_id"] == admin and SUGGESTION_NOTE in c["body"]
                for c in zendesk.comments(ticket_id)
            )
        ),
        proposals_accepted=sum(1 for p in problems.values() if p.cause_key.startswith("proposal:")),
        tickets_asked=asked,
    )
