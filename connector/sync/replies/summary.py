"""One Jira comment per problem and outcome with the delivery summary, once the run is finished.

Exactly once: the ReplyRun row is claimed (the one lease) before posting and marked after;
a claim whose poster died is taken over after a timeout, and the new poster first looks for the
comment's marker on the issue, so a comment posted just before a crash is not posted again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from connector.logs import log_event
from connector.store import reply_rows, reply_runs
from connector.store.models import ReplyState
from connector.sync.replies.plan import Run

if TYPE_CHECKING:
    from connector.sync.ports import HasJira, HasSettings, HasStore, JiraPort

    class SummaryNeeds(HasStore, HasSettings, HasJira, Protocol):
        """What posting the delivery summary to Jira needs."""


log = logging.getLogger(__name__)


def marker(run: Run) -> str:
    """The summary's first sentence, unique per problem and outcome: its exactly-once key."""
    return (
        f"Zendesk replies for outcome '{run.outcome}' of connector problem {run.problem_id} "
        "are done"
    )


def legacy_marker(run: Run) -> str:
    """The key summaries carried before it read as a sentence, still found on older issues."""
    return f"[zdjira-replies:{run.problem_id}:{run.outcome}]"


def is_finished(counts: dict[str, int]) -> bool:
    open_work = counts[ReplyState.PENDING.value] + counts[ReplyState.CLAIMED.value]
    return open_work + counts["followup_open"] == 0 and sum(counts.values()) > 0


def summary_text(run: Run, counts: dict[str, int]) -> str:
    what = "public replies" if run.rendered.public else "internal notes"
    return (
        f"{marker(run)}: {what} sent {counts[ReplyState.SENT.value]}, "
        f"follow-ups {counts[ReplyState.FOLLOWUP.value]}, "
        f"skipped {counts[ReplyState.SKIPPED.value]}, "
        f"failed {counts[ReplyState.FAILED.value]}."
    )


def post_summary(runtime: SummaryNeeds, run: Run) -> bool:
    """Post the summary if the run is finished and nobody did yet; True if this call did."""
    if not run.issue_key:
        return False
    counts = reply_rows.count_states(runtime.db, run)
    if not is_finished(counts):
        return False
    timeout = timedelta(seconds=runtime.settings.replies_summary_claim_timeout)
    token = reply_runs.claim_summary(runtime.db, run, timeout)
    if token is None:
        return False
    text = summary_text(run, counts)
    try:
        if not _already_there(runtime.jira, run):
            runtime.jira.add_comment(run.issue_key, text)
            log_event(
                log, "jira.replies.summary_posted", problem_id=run.problem_id, key=run.issue_key
            )
        reply_runs.finish_summary(runtime.db, run, token, text)
    except Exception:
        reply_runs.finish_summary(runtime.db, run, token, None)
        raise
    return True


def _already_there(jira: JiraPort, run: Run) -> bool:
    assert run.issue_key is not None
    issue = jira.get_issue(run.issue_key)
    keys = (marker(run), legacy_marker(run))
    return any(key in c.body for c in issue.comments for key in keys)
