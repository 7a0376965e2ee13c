"""Reconcile: find work the database says is unfinished (events never processed, problems
without a Jira issue, unconfirmed links, impact writes that fell due) so nothing waits forever
on a lost trigger.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connector.store import inbox, problems

if TYPE_CHECKING:
    from connector.store.db import Database


def reconcile_store(db: Database, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    with db.session() as session:
        problem_ids = problems.needing_work(session, now)
        tracked = problems.any_tracked(session)
    return {
        "tracked": tracked,
        "stale_events": inbox.stale_pending_count(db, stale_after),
        "problems": problem_ids,
    }
