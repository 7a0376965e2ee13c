"""After tickets moved: bring each touched problem up to date in Jira and Zendesk.

Every step is idempotent and re-derived from the database, so running it twice, or after a
crash half-way, converges to the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from connector.errors import PermanentError
from connector.logs import log_event
from connector.store import problems
from connector.store.models import ProblemState
from connector.sync.confirm import confirm_links, confirm_unlinks
from connector.sync.impact import write_impact
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.mirror import prime_mirror
from connector.sync.problems import comment_on_adopted_issue, create_jira_issue

if TYPE_CHECKING:
    from connector.store.db import Database
    from connector.sync.ports import Services

log = logging.getLogger(__name__)


def _is_resolved(db: Database, problem_id: int) -> bool:
    return problems.state_of(db, problem_id) is ProblemState.RESOLVED


def refresh_problems(runtime: Services, problem_ids: Iterable[int]) -> None:
    tracked_new = False  # a problem started tracking an issue: the dropdown lists it
    for problem_id in sorted(set(problem_ids)):
        if create_jira_issue(runtime, problem_id):
            tracked_new = True
            prime_mirror(runtime, problem_id)
        elif problems.never_mirrored(runtime.db, problem_id):
            # An issue adopted by its key: read its status and solution now, so the tickets'
            # confirmation shows them (not at the next reconcile).
            prime_mirror(runtime, problem_id)
            tracked_new = True
        if problems.adopted_by_key(runtime.db, problem_id):
            try:
                comment_on_adopted_issue(runtime, problem_id)  # once; a no-op after
            except PermanentError as exc:  # e.g. no permission to comment: links go on
                log_event(
                    log,
                    "jira.adoption.comment_refused",
                    level=logging.WARNING,
                    problem_id=problem_id,
                    error=type(exc).__name__,
                )
        confirm_links(runtime, problem_id)
        if _is_resolved(runtime.db, problem_id):
            runtime.scheduler.fanout(problem_id)  # it gained tickets: reply to them
        due = write_impact(runtime, problem_id)
        if due is not None:
            runtime.scheduler.write_impact_at(problem_id, due)
    confirm_unlinks(runtime)
    if tracked_new:
        sync_known_problem_options(runtime)
