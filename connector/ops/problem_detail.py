"""The problem page's read (dashboard and `/api/problems/<id>`): its tickets with their
requesters and organisations by name, its timeline in words, and the delivery of the reply owed
now, with the failures. Reads the database only: names are those the worker stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from connector.ops import timeline
from connector.ops.queries import (
    FAILED_SHOWN,
    Links,
    ProblemSummary,
    current_reply_counts,
    held_replies,
    jsonable,
    summary_of,
)
from connector.store import names
from connector.store.models import (
    AuditEntry,
    Link,
    Problem,
    ProblemState,
    Reply,
    ReplyState,
)
from connector.sync.replies.plan import current_outcome

if TYPE_CHECKING:
    from connector.ops.context import AppContext
    from connector.store.db import Session


@dataclass
class LinkView:
    ticket_id: int
    zendesk_url: str | None
    via: str
    linked_by: str | None
    organization_id: int | None
    ticket_status: str | None
    linked_at: datetime
    confirmed: bool
    # Names as the worker last read them from Zendesk; "user 361..." / "organisation 362..."
    # until it has (a ticket linked before names were kept, until it changes again).
    requester_id: int | None = None
    requester: str | None = None
    organization: str | None = None
    linked_by_name: str | None = None


@dataclass
class AuditView:
    at: datetime
    action: str
    ticket_id: int | None
    actor: str | None
    detail: dict[str, Any] | None
    label: str = ""  # the action as people say it ("Ticket linked")
    text: str = ""  # its details as a sentence
    by: str | None = None  # who, by name


@dataclass
class ReplyFailure:
    ticket_id: int
    outcome: str
    state: str
    attempts: int
    error: str | None
    updated_at: datetime


@dataclass
class ProblemDetail:
    problem: ProblemSummary
    solution_kind: str | None
    solution_text: str | None
    fix_version: str | None
    priority_set: str | None
    organizations: list[int]
    organization_names: list[str]  # the same, by name
    links: list[LinkView]
    audit: list[AuditView]
    replies: dict[str, int]
    reply_failures: list[ReplyFailure]

    @property
    def replies_total(self) -> int:
        return sum(self.replies.values())

    @property
    def replies_done(self) -> int:
        done = (ReplyState.SENT, ReplyState.FOLLOWUP, ReplyState.SKIPPED)
        return sum(self.replies.get(s.value, 0) for s in done)

    def to_json(self) -> dict[str, Any]:
        data = jsonable(asdict(self))
        data["problem"] = self.problem.to_json()
        data["replies"] = {
            "by_state": self.replies,
            "total": self.replies_total,
            "done": self.replies_done,
            "failures": data.pop("reply_failures"),
        }
        return data


def problem_detail(runtime: AppContext, problem_id: int) -> ProblemDetail | None:
    links = Links(runtime)
    with runtime.db.session() as session:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == ProblemState.DELETED:
            return None
        outcome = current_outcome(problem, runtime.config)
        counts = current_reply_counts(session, {problem.id: outcome}).get(problem.id, {})
        held = held_replies(session, {problem.id: outcome})
        linked = session.scalars(
            select(Link)
            .where(Link.problem_id == problem_id)
            .order_by(Link.linked_at, Link.ticket_id)
        ).all()
        audit = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.problem_id == problem_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(500)
        ).all()
        failures = session.scalars(
            select(Reply)
            .where(
                Reply.problem_id == problem_id,
                Reply.outcome == (outcome or ""),
                Reply.state == ReplyState.FAILED,
            )
            .order_by(Reply.updated_at.desc())
            .limit(FAILED_SHOWN)
        ).all()
        known = _names(session, linked, audit)
        organizations = sorted({lk.organization_id for lk in linked if lk.organization_id})
        return ProblemDetail(
            problem=summary_of(problem, links, counts, outcome, held.get(problem.id)),
            solution_kind=problem.solution_kind,
            solution_text=problem.solution_text,
            fix_version=problem.fix_version,
            priority_set=problem.priority_set,
            organizations=organizations,
            organization_names=[_organization(known, o) or "" for o in organizations],
            links=[_link_view(lk, links, known) for lk in linked],
            audit=[_audit_view(a, known) for a in audit],
            replies=counts,
            reply_failures=[
                ReplyFailure(
                    r.ticket_id, r.outcome, r.state.value, r.attempts, r.error, r.updated_at
                )
                for r in failures
            ],
        )


def _names(session: Session, linked: Iterable[Link], audit: Iterable[AuditEntry]) -> names.Names:
    actors = [lk.linked_by for lk in linked] + [a.actor for a in audit]
    users = {lk.requester_id for lk in linked if lk.requester_id}
    users |= {i for i in map(timeline.agent_id, actors) if i is not None}
    organizations = {lk.organization_id for lk in linked if lk.organization_id}
    return names.lookup(session, users, organizations)


def _organization(known: names.Names, organization_id: int | None) -> str | None:
    if organization_id is None:
        return None
    return known.organizations.get(organization_id) or f"organisation {organization_id}"


def _link_view(lk: Link, links: Links, known: names.Names) -> LinkView:
    requester = None
    if lk.requester_id:
        requester = known.users.get(lk.requester_id) or f"user {lk.requester_id}"
    return LinkView(
        lk.ticket_id,
        links.ticket(lk.ticket_id),
        str(lk.via.value),
        lk.linked_by,
        lk.organization_id,
        lk.ticket_status,
        lk.linked_at,
        lk.confirmed,
        requester_id=lk.requester_id,
        requester=requester,
        organization=_organization(known, lk.organization_id),
        linked_by_name=timeline.actor_name(lk.linked_by, known.users),
    )


def _audit_view(a: AuditEntry, known: names.Names) -> AuditView:
    by = timeline.actor_name(a.actor, known.users)
    text = timeline.describe(a.action, a.detail)
    return AuditView(
        a.at,
        a.action,
        a.ticket_id,
        a.actor,
        a.detail,
        label=timeline.label(a.action),
        text="" if text == by else text,  # "linked by a linking rule", said once
        by=by,
    )
