"""Who gets what: the problem's current outcome, its rendered reply, whether it is held, and the
per-ticket `Reply` rows derived from the links (so late-linked tickets are found by the same
query as the first ones, and a reopen with the same outcome finds its rows already there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from connector.config import Config
from connector.store import reply_runs
from connector.store.db import Database
from connector.store.models import Problem, ProblemState
from connector.sync.replies.templates import (
    Facts,
    Rendered,
    render,
    template_for,
    uses_solution,
)

if TYPE_CHECKING:
    from connector.store.db import Database

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


def load_run(db: Database, config: Config, problem_id: int) -> Run | None:
    """The current run of a problem (creating its ReplyRun record), or None if nothing is owed."""
    problem = reply_runs.get_problem(db, problem_id)
    if problem is None:
        return None
    outcome = current_outcome(problem, config)
    if outcome is None:
        return None
    record = reply_runs.ensure_run(db, problem_id, outcome)
    rendered = render(config, facts_of(problem, outcome))
    held = None if record.approved else hold_reason(config, problem, outcome, rendered)
    if record.held_reason != held:
        reply_runs.set_held_reason(db, problem_id, outcome, held)
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
