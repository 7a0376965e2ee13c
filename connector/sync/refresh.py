"""After tickets moved: bring each touched problem up to date in Jira and Zendesk.

Every step is idempotent and re-derived from the database, so running it twice, or after a
crash half-way, converges to the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from connector.sync.confirm import confirm_links, confirm_unlinks
from connector.sync.impact import write_impact
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.problems import create_jira_issue

if TYPE_CHECKING:
    from connector.runtime import Runtime

ScheduleImpact = Callable[[int, datetime], None]


def refresh_problems(
    runtime: Runtime, problem_ids: Iterable[int], schedule_impact: ScheduleImpact
) -> None:
    created = False
    for problem_id in sorted(set(problem_ids)):
        created |= create_jira_issue(runtime, problem_id)
        confirm_links(runtime, problem_id)
        due = write_impact(runtime, problem_id)
        if due is not None:
            schedule_impact(problem_id, due)
    confirm_unlinks(runtime)
    if created:
        sync_known_problem_options(runtime)
