"""Read-only queries behind the dashboard, the admin API, `/metrics` and `connector doctor`.

Nothing here writes: every function opens its own session, reads, and returns plain data
(dataclasses with a `to_json()`), so templates and JSON views share one source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select

from connector import urls
from connector.store import proposals
from connector.store.models import (
    EventState,
    InboundEvent,
    Link,
    Problem,
    ProblemState,
    Reply,
    ReplyState,
    utcnow,
)
from connector.store.reply_models import ReplyRun
from connector.sync.replies.plan import current_outcome

if TYPE_CHECKING:
    from connector.ops.context import AppContext
    from connector.store.db import Database, Session

STATES = ("open", "resolved", "all")
FAILED_SHOWN = 20


@dataclass
class ProblemSummary:
    id: int
    jira_key: str | None
    jira_url: str | None
    summary: str
    team: str
    team_name: str
    state: str
    jira_status: str | None
    status_category: str | None
    ticket_count: int
    open_ticket_count: int
    organization_count: int
    customer_value: float
    created_at: datetime
    first_linked_at: datetime | None
    due_date: date | None
    overdue: bool
    outcome: str | None
    resolved_at: datetime | None
    # Delivery of the reply owed now (`reply_outcome`): one row per ticket, so the counts add
    # up to the tickets (a workaround sent before the fix is another outcome's rows).
    replies: dict[str, int] = field(default_factory=dict)
    reply_outcome: str | None = None
    reply_held: str | None = None  # why that reply waits (e.g. for approval)

    @property
    def since(self) -> datetime:
        return self.first_linked_at or self.created_at

    @property
    def age(self) -> timedelta:
        """How long it has been open: it stops counting when the issue resolves."""
        resolved = self.state == ProblemState.RESOLVED.value and self.resolved_at is not None
        return (self.resolved_at if resolved and self.resolved_at else utcnow()) - self.since

    @property
    def time_to_resolution(self) -> timedelta | None:
        return self.resolved_at - self.since if self.resolved_at else None

    def to_json(self) -> dict[str, Any]:
        data = jsonable(asdict(self))
        data["age_seconds"] = int(self.age.total_seconds())
        ttr = self.time_to_resolution
        data["time_to_resolution_seconds"] = int(ttr.total_seconds()) if ttr else None
        return data


class Links:
    """Where a problem and a ticket live for a person (Jira browse page, Zendesk agent view)."""

    def __init__(self, runtime: AppContext) -> None:
        self.jira, self.zendesk = runtime.settings.jira_url, runtime.settings.zendesk_url
        self.teams = {key: team.name or key for key, team in runtime.config.teams.items()}

    def issue(self, key: str | None) -> str | None:
        return urls.jira_issue(self.jira, key)

    def ticket(self, ticket_id: int) -> str | None:
        return urls.zendesk_ticket(self.zendesk, ticket_id)


def list_problems(
    runtime: AppContext, state: str = "open", team: str | None = None, limit: int = 500
) -> list[ProblemSummary]:
    """Open problems by impact (most tickets first; not the dormant ones, empty for longer than
    `empty_problem_grace_hours`, which `all` still lists); resolved ones most recent first."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    query = select(Problem).where(Problem.state != ProblemState.DELETED)
    if state == "open":
        open_ = (Problem.state == ProblemState.OPEN) & Problem.dormant_at.is_(None)
        query = query.where(open_).order_by(
            Problem.ticket_count.desc(), Problem.organization_count.desc(), Problem.id
        )
    elif state == "resolved":
        query = query.where(Problem.state == ProblemState.RESOLVED).order_by(
            Problem.resolved_at.desc(), Problem.id.desc()
        )
    else:
        query = query.order_by(Problem.ticket_count.desc(), Problem.id)
    if team:
        query = query.where(Problem.team == team)
    links = Links(runtime)
    with runtime.db.session() as session:
        problems = list(session.scalars(query.limit(limit)))
        outcomes = {p.id: current_outcome(p, runtime.config) for p in problems}
        counts = current_reply_counts(session, outcomes)
        held = held_replies(session, outcomes)
        return [
            summary_of(p, links, counts.get(p.id, {}), outcomes[p.id], held.get(p.id))
            for p in problems
        ]


def problem_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Problem.state, func.count()).group_by(Problem.state))
        return {state.value: int(n) for state, n in rows}


def reply_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Reply.state, func.count()).group_by(Reply.state))
        return {state.value: int(n) for state, n in rows}


def event_counts(db: Database) -> dict[tuple[str, str], int]:
    with db.session() as session:
        rows = session.execute(
            select(InboundEvent.source, InboundEvent.state, func.count()).group_by(
                InboundEvent.source, InboundEvent.state
            )
        )
        return {(source, state.value): int(n) for source, state, n in rows}


def last_deliveries(db: Database) -> dict[str, datetime | None]:
    """When each side last delivered a webhook the connector stored."""
    found: dict[str, datetime | None] = {"zendesk": None, "jira": None}
    with db.session() as session:
        rows = session.execute(
            select(InboundEvent.source, func.max(InboundEvent.received_at)).group_by(
                InboundEvent.source
            )
        )
        for source, latest in rows:
            if isinstance(latest, str):  # SQLite aggregates bypass the column type
                latest = datetime.fromisoformat(latest)
            if latest is not None and latest.tzinfo is None:
                latest = latest.replace(tzinfo=utcnow().tzinfo)
            found[source] = latest
    return found


def failed_events(db: Database, limit: int = FAILED_SHOWN) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(
            select(InboundEvent)
            .where(InboundEvent.state == EventState.FAILED)
            .order_by(InboundEvent.id.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": e.id,
                "source": e.source,
                "type": e.event_type,
                "subject": e.subject_id,
                "attempts": e.attempts,
                "error": e.error,
                "received_at": e.received_at.isoformat(),
            }
            for e in rows
        ]


def retrying(db: Database) -> dict[str, dict[str, Any]]:
    """Events and replies that failed and wait for their next attempt (an outage, usually):
    how many, failing since when, and when the next attempt is due. They heal by themselves;
    past the retry horizon they are parked as failed."""
    found: dict[str, dict[str, Any]] = {}
    with db.session() as session:
        for name, model, waiting in (
            ("events", InboundEvent, InboundEvent.state == EventState.PENDING),
            ("replies", Reply, Reply.state == ReplyState.PENDING),
        ):
            count, since, due = session.execute(
                select(
                    func.count(), func.min(model.first_failed_at), func.min(model.next_attempt_at)
                ).where(waiting, model.first_failed_at.is_not(None))
            ).one()
            found[name] = {
                "count": int(count or 0),
                "failing_since": _iso(since),
                "next_attempt_at": _iso(due),
            }
    return found


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite forgets the zone in aggregates
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def status(runtime: AppContext) -> dict[str, Any]:
    """Queue depth, last deliveries, and counts of what waits or failed."""
    from connector.queue import queue_depth

    try:
        depth: int | None = queue_depth(runtime.huey)
    except Exception:  # the queue being down is itself the status
        depth = None
    events = event_counts(runtime.db)
    return {
        "queue_depth": depth,
        "last_delivery": {
            side: at.isoformat() if at else None for side, at in last_deliveries(runtime.db).items()
        },
        "events": {f"{src}.{state}": n for (src, state), n in sorted(events.items())},
        "failed_events": failed_events(runtime.db),
        "retrying": retrying(runtime.db),
        "problems": problem_counts(runtime.db),
        "replies": reply_counts(runtime.db),
        "replies_awaiting_approval": awaiting_approval(runtime),
        "proposals": open_proposals(runtime.db),
    }


def open_proposals(db: Database) -> int:
    """Proposed problems (emerging causes) waiting for an admin's decision."""
    with db.session() as session:
        return proposals.count_open(session)


def awaiting_approval(runtime: AppContext) -> int:
    """Problems with pending replies of an outcome that waits for an admin's approval."""
    if not runtime.config.replies.require_approval:
        return 0
    approved = exists().where(
        ReplyRun.problem_id == Reply.problem_id,
        ReplyRun.outcome == Reply.outcome,
        ReplyRun.approved.is_(True),
    )
    query = select(func.count(func.distinct(Reply.problem_id))).where(
        Reply.state == ReplyState.PENDING, ~approved
    )
    with runtime.db.session() as session:
        return int(session.scalar(query) or 0)


def current_reply_counts(
    session: Session, outcomes: dict[int, str | None]
) -> dict[int, dict[str, int]]:
    """Each problem's reply rows by state, of its current outcome only, plus its linked tickets
    that have no row yet as `pending` (the fan-out plans them; they are owed the reply too)."""
    wanted = {pid: outcome for pid, outcome in outcomes.items() if outcome}
    if not wanted:
        return {}
    ids = list(wanted)
    rows = session.execute(
        select(Reply.problem_id, Reply.outcome, Reply.state, func.count())
        .where(Reply.problem_id.in_(ids))
        .group_by(Reply.problem_id, Reply.outcome, Reply.state)
    )
    out: dict[int, dict[str, int]] = {}
    for problem_id, outcome, state, n in rows:
        if wanted[problem_id] == outcome:
            out.setdefault(problem_id, {})[state.value] = int(n)
    for problem_id, unplanned in _unplanned(session, wanted).items():
        counts = out.setdefault(problem_id, {})
        counts[ReplyState.PENDING.value] = counts.get(ReplyState.PENDING.value, 0) + unplanned
    return out


def _unplanned(session: Session, outcomes: dict[int, str]) -> dict[int, int]:
    """Linked tickets without a row of their problem's current outcome, by problem."""
    ids = list(outcomes)
    linked = session.execute(
        select(Link.problem_id, func.count())
        .where(Link.problem_id.in_(ids))
        .group_by(Link.problem_id)
    )
    on_link = and_(Link.ticket_id == Reply.ticket_id, Link.problem_id == Reply.problem_id)
    planned: dict[int, int] = {}
    for problem_id, outcome, n in session.execute(
        select(Reply.problem_id, Reply.outcome, func.count())
        .join(Link, on_link)
        .where(Reply.problem_id.in_(ids))
        .group_by(Reply.problem_id, Reply.outcome)
    ):
        if outcomes[problem_id] == outcome:
            planned[problem_id] = int(n)
    found = {pid: int(n) - planned.get(pid, 0) for pid, n in linked}
    return {pid: n for pid, n in found.items() if n > 0}


def held_replies(session: Session, outcomes: dict[int, str | None]) -> dict[int, str]:
    """Why each problem's current reply waits, as the fan-out last found (none: it does not)."""
    wanted = {pid: outcome for pid, outcome in outcomes.items() if outcome}
    if not wanted:
        return {}
    rows = session.execute(
        select(ReplyRun.problem_id, ReplyRun.outcome, ReplyRun.held_reason).where(
            ReplyRun.problem_id.in_(list(wanted)), ReplyRun.held_reason.is_not(None)
        )
    )
    return {pid: str(reason) for pid, outcome, reason in rows if wanted[pid] == outcome}


def summary_of(
    p: Problem,
    links: Links,
    replies: dict[str, int],
    reply_outcome: str | None,
    reply_held: str | None = None,
) -> ProblemSummary:
    done = (p.jira_status_category or "").lower() == "done"
    overdue = bool(p.due_date and p.due_date < utcnow().date() and not done)
    return ProblemSummary(
        id=p.id,
        jira_key=p.jira_key,
        jira_url=links.issue(p.jira_key),
        summary=p.summary,
        team=p.team,
        team_name=links.teams.get(p.team, p.team),
        state=p.state.value,
        jira_status=p.jira_status,
        status_category=p.jira_status_category,
        ticket_count=p.ticket_count,
        open_ticket_count=p.open_ticket_count,
        organization_count=p.organization_count,
        customer_value=p.customer_value,
        created_at=p.created_at,
        first_linked_at=p.first_linked_at,
        due_date=p.due_date,
        overdue=overdue,
        outcome=p.outcome,
        resolved_at=p.resolved_at,
        replies=replies,
        reply_outcome=reply_outcome,
        reply_held=reply_held,
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
