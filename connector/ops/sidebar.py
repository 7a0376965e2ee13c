"""What the Zendesk sidebar app shows for one ticket, read from the database only: the problem
it is linked to (Jira key and link, summary, team, status, expected fix, the agreed solution or
workaround, impact and its trend, who linked it and how), or, unlinked, the suggested problems;
the search of open problems; the actions still waiting. Text from Jira and customers is data:
the page escapes it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from connector.ops import timeline
from connector.ops.queries import Links, jsonable
from connector.store import links as stored_links
from connector.store import names
from connector.store import sidebar as app_rows
from connector.store import suggestions as suggestion_rows
from connector.store.models import Problem, ProblemState, utcnow

if TYPE_CHECKING:
    from connector.ops.context import AppContext
    from connector.store.db import Session

TREND_DAYS = 7
SEARCH_LIMIT = 10


@dataclass(frozen=True)
class SuggestedProblem:
    problem_id: int
    key: str | None
    summary: str
    confidence: float  # 0..1


def suggested_problems(
    session: Session, ticket_id: int, min_confidence: float = 0.0
) -> list[SuggestedProblem]:
    """The suggestion engine's matches for an unlinked ticket, best first, as the worker last
    computed them: open problems with a Jira key, from `min_confidence`, without the ones an
    agent dismissed on this ticket."""
    row = suggestion_rows.row_of(session, ticket_id)
    if row is None:
        return []
    dismissed = set(row.dismissed or [])
    found = []
    for match in row.matches or []:
        problem = session.get(Problem, int(match["problem_id"]))
        confidence = float(match["confidence"])
        if (
            problem is None
            or problem.state is not ProblemState.OPEN
            or not problem.jira_key
            or problem.id in dismissed
            or confidence < min_confidence
            or confidence <= 0
        ):
            continue
        found.append(SuggestedProblem(problem.id, problem.jira_key, problem.summary, confidence))
    return found


@dataclass
class Trend:
    last: int  # tickets created in the last TREND_DAYS days
    before: int  # in the TREND_DAYS days before those
    direction: str  # rising | falling | steady


@dataclass
class ProblemView:
    id: int
    key: str | None
    jira_url: str | None
    summary: str
    team: str
    state: str
    status: str | None
    status_category: str | None
    expected_fix: str | None  # the due date, else the fix version
    solution_kind: str | None
    solution: str | None
    tickets: int
    open_tickets: int
    organizations: int
    trend: Trend


@dataclass
class LinkedView:
    problem: ProblemView
    via: str
    how: str  # "the Jira issue field", ...
    linked_by: str | None  # by name
    linked_at: datetime


@dataclass
class ActionView:
    id: int
    kind: str
    state: str
    message: str | None


@dataclass
class SidebarView:
    ticket_id: int
    linked: LinkedView | None
    suggestions: list[SuggestedProblem] = field(default_factory=list)
    teams: list[dict[str, str]] = field(default_factory=list)
    waiting: list[ActionView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(asdict(self))
        return data


def sidebar_view(runtime: AppContext, session: Session, ticket_id: int) -> SidebarView:
    links = Links(runtime)
    link = stored_links.of_ticket(session, ticket_id)
    problem = session.get(Problem, link.problem_id) if link is not None else None
    linked = None
    if link is not None and problem is not None:
        user = timeline.agent_id(link.linked_by)
        known = names.lookup(session, [user] if user else [], [])
        linked = LinkedView(
            problem=_problem_view(session, links, problem),
            via=link.via.value,
            how=timeline.HOW_LINKED.get(link.via.value, link.via.value),
            linked_by=timeline.actor_name(link.linked_by, known.users),
            linked_at=link.linked_at,
        )
    teams = [{"key": k, "name": v} for k, v in sorted(links.teams.items(), key=lambda t: t[1])]
    return SidebarView(
        ticket_id=ticket_id,
        linked=linked,
        suggestions=[]
        if linked or not runtime.config.suggestions.enabled
        else suggested_problems(session, ticket_id, runtime.config.suggestions.min_confidence),
        teams=teams,
        waiting=[
            ActionView(a.id, a.kind, a.state.value, a.message)
            for a in app_rows.waiting_actions(session, ticket_id)
        ],
    )


def _problem_view(session: Session, links: Links, p: Problem) -> ProblemView:
    now = utcnow()
    created = stored_links.created_since(session, p.id, now - timedelta(days=2 * TREND_DAYS))
    boundary = now - timedelta(days=TREND_DAYS)
    last = sum(1 for c in created if c >= boundary)
    before = len(created) - last
    direction = "rising" if last > before else "falling" if last < before else "steady"
    expected = p.due_date.isoformat() if p.due_date else p.fix_version
    return ProblemView(
        id=p.id,
        key=p.jira_key,
        jira_url=links.issue(p.jira_key),
        summary=p.summary,
        team=links.teams.get(p.team, p.team),
        state=p.state.value,
        status=p.jira_status,
        status_category=p.jira_status_category,
        expected_fix=expected,
        solution_kind=p.solution_kind,
        solution=p.solution_text,
        tickets=p.ticket_count,
        open_tickets=p.open_ticket_count,
        organizations=p.organization_count,
        trend=Trend(last, before, direction),
    )


def search_problems(
    session: Session, query: str, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """Open problems tracked in Jira whose key or summary holds every word of the query."""
    words = [w for w in query.split() if w][:5]
    statement = select(Problem).where(
        Problem.state == ProblemState.OPEN, Problem.jira_key.is_not(None)
    )
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        statement = statement.where(
            or_(
                Problem.jira_key.ilike(pattern, escape="\\"),
                Problem.summary.ilike(pattern, escape="\\"),
            )
        )
    found = session.scalars(statement.order_by(Problem.ticket_count.desc()).limit(limit))
    return [
        {"id": p.id, "key": p.jira_key, "summary": p.summary, "tickets": p.ticket_count}
        for p in found
    ]


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
