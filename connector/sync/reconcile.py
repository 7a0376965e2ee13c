"""Reconcile: find work the database says is unfinished (events never processed, problems
without a Jira issue, unconfirmed links, impact writes that fell due) so nothing waits forever
on a lost trigger.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from connector.store import inbox, problems
from connector.store.models import utcnow

if TYPE_CHECKING:
    from connector.sync.ports import Services


def reconcile_store(runtime: Services) -> dict[str, Any]:
    now = utcnow()
    stale_after = timedelta(seconds=runtime.settings.reconcile_stale_event_seconds)
    with runtime.db.session() as session:
        problem_ids = problems.needing_work(session, now)
        tracked = problems.any_tracked(session)
    return {
        "tracked": tracked,
        "stale_events": inbox.stale_pending_count(runtime.db, stale_after),
        "problems": problem_ids,
    }
