"""Who gets what: the problem's current outcome, its rendered reply, whether it is held, and the
per-ticket `Reply` rows derived from the links (so late-linked tickets are found by the same
query as the first ones, and a reopen with the same outcome finds its rows already there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connector.config import Config
from connector.store.models import Link, Problem, ProblemState, Reply, ReplyState, utcnow
from connector.store.reply_models import ReplyRun
from connector.sync.replies.templates import (
    Facts,
    Rendered,
    render,
    template_for,
    uses_solution,
)

if TYPE_CHECKING:
    from connector.sync.ports import Services

WORKAROUND = "workaround"
UNMAPPED = "unmapped"


@dataclass(frozen=True)
class Run:
    """The reply one problem owes its linked tickets right now."""

    problem_id: int
    outcome: str
    issue_key: str | None
    rendered: Rendered
    held_reason: str | None
    problem_ticket_id: int | None
    closed_policy: str

    @property
    def held(self) -> bool:
        return self.held_reason is not None


def current_outcome(problem: Problem, config: Config) -> str | None:
    """The outcome to answer: the resolution's, or an agreed workaround on an open issue."""
    if problem.state == ProblemState.RESOLVED:
        return problem.outcome or UNMAPPED
    if (
        problem.state == ProblemState.OPEN
        and config.replies.send_workaround
        and (problem.solution_kind or "").strip().lower() == WORKAROUND
        and (problem.solution_text or "").strip()
    ):
        return WORKAROUND
    return None


def facts_of(problem: Problem, outcome: str) -> Facts:
    return Facts(
        problem_id=problem.id,
        issue_key=problem.jira_key,
        outcome=outcome,
        solution=problem.solution_text,
        fix_version=problem.fix_version,
        due_date=problem.due_date,
        resolution=problem.jira_resolution if problem.state == ProblemState.RESOLVED else None,
    )


def load_run(session: Session, config: Config, problem_id: int) -> Run | None:
    """The current run of a problem (creating its ReplyRun row), or None if nothing is owed."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        return None
    outcome = current_outcome(problem, config)
    if outcome is None:
        return None
    record = ensure_run_record(session, problem_id, outcome)
    rendered = render(config, facts_of(problem, outcome))
    held = None if record.approved else hold_reason(config, problem, outcome, rendered)
    if record.held_reason != held:
        record.held_reason = held
    return Run(
        problem_id=problem_id,
        outcome=outcome,
        issue_key=problem.jira_key,
        rendered=rendered,
        held_reason=held,
        problem_ticket_id=problem.zendesk_problem_ticket_id,
        closed_policy=config.replies.closed_tickets,
    )


def hold_reason(config: Config, problem: Problem, outcome: str, rendered: Rendered) -> str | None:
    if not rendered.public:
        return None  # an internal note never reaches the customer: nothing to approve
    if config.replies.require_approval:
        return "waiting for approval (replies.require_approval is true)"
    if uses_solution(template_for(config, outcome)) and not (problem.solution_text or "").strip():
        return "no agreed solution text yet: the reply would quote an empty ${solution}"
    return None


def ensure_run_record(session: Session, problem_id: int, outcome: str) -> ReplyRun:
    """The ReplyRun row of (problem, outcome); concurrent callers end up with the same row."""
    found = _run_record(session, problem_id, outcome)
    if found is not None:
        return found
    now = utcnow()
    values = {
        "problem_id": problem_id,
        "outcome": outcome,
        "approved": False,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(_insert(session, ReplyRun).values(**values).on_conflict_do_nothing())
    record = _run_record(session, problem_id, outcome)
    assert record is not None
    return record


def _run_record(session: Session, problem_id: int, outcome: str) -> ReplyRun | None:
    query = select(ReplyRun).where(ReplyRun.problem_id == problem_id, ReplyRun.outcome == outcome)
    return session.scalars(query).first()


def plan_rows(runtime: Services, run: Run) -> int:
    """Add a pending Reply row for every linked ticket that has none for this outcome, in one
    INSERT ... SELECT (nothing is loaded into memory); pending rows of tickets that left the
    problem are skipped. Returns the number of rows added."""
    now = utcnow()
    has_row = exists().where(
        Reply.problem_id == run.problem_id,
        Reply.outcome == run.outcome,
        Reply.ticket_id == Link.ticket_id,
    )
    source = select(
        Link.ticket_id,
        literal(run.problem_id),
        literal(run.outcome),
        literal(ReplyState.PENDING.value),
        literal(0),
        literal(now, Reply.updated_at.type),
    ).where(Link.problem_id == run.problem_id, ~has_row)
    columns = ["ticket_id", "problem_id", "outcome", "state", "attempts", "updated_at"]
    with runtime.db.session() as session:
        added = session.execute(
            _insert(session, Reply).from_select(columns, source).on_conflict_do_nothing()
        ).rowcount  # type: ignore[attr-defined]
        still_linked = exists().where(
            Link.ticket_id == Reply.ticket_id, Link.problem_id == Reply.problem_id
        )
        session.execute(
            update(Reply)
            .where(
                Reply.problem_id == run.problem_id,
                Reply.outcome == run.outcome,
                Reply.state == ReplyState.PENDING,
                ~still_linked,
            )
            .values(state=ReplyState.SKIPPED, error="unlinked before the reply was sent")
            .execution_options(synchronize_session=False)
        )
    return max(int(added or 0), 0)  # -1 where the driver cannot tell


def _insert(session: Session, model: Any) -> Any:
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)
