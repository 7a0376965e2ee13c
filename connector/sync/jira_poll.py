"""Reconcile with Jira: poll the tracked issues updated since the watermark (Cloud `search/jql`
with page tokens; Data Center `/search`) and mirror the ones whose change we have not seen,
so a missed webhook heals within one polling interval."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connector.batching import batched
from connector.logs import log_event
from connector.store import problems, watermarks
from connector.sync.jira_events import mirror_issue

if TYPE_CHECKING:
    from connector.sync.ports import Services

log = logging.getLogger(__name__)
WATERMARK = "jira.poll"
IDS_PER_QUERY = 100


def poll_jira(runtime: Services) -> int:
    """Mirror every tracked issue changed since the last poll; returns how many were behind."""
    started = runtime.clock.now()
    # Jira's `updated` and our clock may disagree a little: read a little before the mark.
    overlap = timedelta(seconds=runtime.settings.jira_poll_overlap_seconds)
    with runtime.db.session() as session:
        mark = watermarks.get(session, WATERMARK)
        since = datetime.fromisoformat(mark) - overlap if mark else None
        tracked = {
            str(p.jira_issue_id): (p.id, p.state, p.jira_updated_at)
            for p in problems.tracked(session)
        }
    behind = 0
    for chunk in batched(sorted(tracked), IDS_PER_QUERY):
        jql = f"id in ({', '.join(chunk)})"
        if since is not None:
            jql += f" AND updated >= {int(since.timestamp() * 1000)}"
        token: str | None = None
        while True:
            page = runtime.jira.search(jql, ["*all"], next_page_token=token)
            for issue in page.issues:
                problem_id, state, seen = tracked[issue.id]
                if seen is None or issue.updated is None or issue.updated > seen:
                    behind += 1
                    mirror_issue(runtime, problem_id, issue, state)
            token = page.next_page_token
            if not token:
                break
    with runtime.db.session() as session:
        watermarks.put(session, WATERMARK, started.isoformat())
    log_event(log, "jira.poll.done", tracked=len(tracked), behind=behind)
    return behind
