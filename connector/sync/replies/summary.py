"""One Jira comment per problem and outcome with the delivery summary, once the run is finished.

Exactly once: the ReplyRun row is claimed (compare-and-set) before posting and marked after;
a claim whose poster died is taken over after a timeout, and the new poster first looks for the
comment's marker on the issue, so a comment posted just before a crash is not posted again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update

from connector.logs import log_event
from connector.store.models import ReplyState, utcnow
from connector.store.reply_models import ReplyRun
from connector.sync.replies import rows
from connector.sync.replies.plan import Run

if TYPE_CHECKING:
    from connector.sync.ports import Services

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=2)


def marker(run: Run) -> str:
    return f"[zdjira-replies:{run.problem_id}:{run.outcome}]"


def is_finished(counts: dict[str, int]) -> bool:
    open_work = counts[ReplyState.PENDING.value] + counts[ReplyState.CLAIMED.value]
    return open_work + counts["followup_open"] == 0 and sum(counts.values()) > 0


def summary_text(run: Run, counts: dict[str, int]) -> str:
    what = "public replies" if run.rendered.public else "internal notes"
    return (
        f"Zendesk {what} for outcome '{run.outcome}' delivered: "
        f"sent {counts[ReplyState.SENT.value]}, "
        f"follow-ups {counts[ReplyState.FOLLOWUP.value]}, "
        f"skipped {counts[ReplyState.SKIPPED.value]}, "
        f"failed {counts[ReplyState.FAILED.value]}.\n{marker(run)}"
    )


def post_summary(runtime: Services, run: Run) -> bool:
    """Post the summary if the run is finished and nobody did yet; True if this call did."""
    if not run.issue_key:
        return False
    counts = rows.count_states(runtime, run)
    if not is_finished(counts):
        return False
    token = _claim(runtime, run)
    if token is None:
        return False
    text = summary_text(run, counts)
    try:
        if not _already_there(runtime, run):
            runtime.jira.add_comment(run.issue_key, text)
            log_event(
                log, "jira.replies.summary_posted", problem_id=run.problem_id, key=run.issue_key
            )
        _finish(runtime, run, token, text)
    except Exception:
        _finish(runtime, run, token, None)
        raise
    return True


def _already_there(runtime: Services, run: Run) -> bool:
    assert run.issue_key is not None
    issue = runtime.jira.get_issue(run.issue_key)
    comments: Any = (issue.fields.get("comment") or {}).get("comments") or []
    return any(marker(run) in str(c.get("body") or "") for c in comments)


def _claim(runtime: Services, run: Run) -> str | None:
    token, now = uuid.uuid4().hex, utcnow()
    with runtime.db.session() as session:
        result = session.execute(
            update(ReplyRun)
            .where(
                ReplyRun.problem_id == run.problem_id,
                ReplyRun.outcome == run.outcome,
                ReplyRun.summary_posted_at.is_(None),
                or_(
                    ReplyRun.summary_claim.is_(None),
                    ReplyRun.summary_claimed_at < now - CLAIM_TIMEOUT,
                ),
            )
            .values(summary_claim=token, summary_claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return token if result.rowcount else None  # type: ignore[attr-defined]


def _finish(runtime: Services, run: Run, token: str, text: str | None) -> None:
    values: dict[str, Any] = {"summary_claim": None}
    if text is not None:
        values |= {"summary_posted_at": utcnow(), "summary": text}
    with runtime.db.session() as session:
        session.execute(
            update(ReplyRun)
            .where(
                ReplyRun.problem_id == run.problem_id,
                ReplyRun.outcome == run.outcome,
                ReplyRun.summary_claim == token,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
