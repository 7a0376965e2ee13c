"""Reconcile: find work the database says is unfinished (events never processed, problems
without a Jira issue, unconfirmed links, impact writes that fell due) so nothing waits forever
on a lost trigger.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from connector.store import inbox
from connector.store.models import Link, Problem, ProblemState, utcnow

if TYPE_CHECKING:
    from connector.sync.ports import Services

STALE_AFTER = timedelta(seconds=30)


def reconcile_store(runtime: Services) -> dict[str, Any]:
    now = utcnow()
    with runtime.db.session() as session:
        unconfirmed = select(Link.problem_id).where(Link.confirmed.is_(False))
        problems = session.scalars(
            select(Problem.id).where(
                Problem.state != ProblemState.DELETED,
                or_(
                    Problem.jira_issue_id.is_(None),
                    Problem.id.in_(unconfirmed),
                    Problem.impact_due_at <= now,
                    Problem.mirror_due_at <= now,
                ),
            )
        )
        problem_ids = sorted(set(problems))
        tracked = session.scalar(
            select(Problem.id).where(Problem.jira_issue_id.is_not(None)).limit(1)
        )
    return {
        "tracked": tracked is not None,
        "stale_events": inbox.stale_pending_count(runtime.db, STALE_AFTER),
        "problems": problem_ids,
    }
