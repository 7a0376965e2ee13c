"""Mirror: the Jira issue's status, agreed solution and expected fix date flow back to every
linked ticket, in as few Zendesk calls as possible (one `update_many` per 100 tickets).

The issue is re-read from Jira (a webhook is a hint; deliveries are late and out of order) and
compared with what was last mirrored: only what changed is written, material changes (status
category, solution, due date) add one internal note, and a problem is written at most once per
`mirror_debounce_seconds` so a burst of Jira edits does not exhaust Zendesk's 30 updates per
ticket per 10 minutes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from connector.batching import batched
from connector.coalesce import hold_until
from connector.config import Config
from connector.jira.models import JiraIssue
from connector.logs import log_event
from connector.store.models import AuditEntry, Link, Problem, ProblemState, utcnow
from connector.zendesk.client import MAX_BATCH
from connector.zendesk.models import Comment, TicketUpdate

if TYPE_CHECKING:
    from connector.runtime import Runtime

log = logging.getLogger(__name__)
CATEGORY_TAG = "jira_status_"
CATEGORIES = ("new", "indeterminate", "done")


@dataclass(frozen=True)
class Snapshot:
    """What the tickets show of the issue."""

    key: str
    status: str | None
    category: str | None
    resolution: str | None
    expected_fix: str | None
    fix_version: str | None
    solution: str | None
    solution_kind: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def snapshot_of(issue: JiraIssue, config: Config, own_account: str | None) -> Snapshot:
    solution, kind = agreed_solution(issue, config, own_account)
    return Snapshot(
        key=issue.key,
        status=issue.status,
        category=issue.status_category,
        resolution=issue.resolution,
        expected_fix=issue.expected_fix.isoformat() if issue.expected_fix else None,
        fix_version=issue.fix_version,
        solution=solution,
        solution_kind=kind,
    )


def agreed_solution(
    issue: JiraIssue, config: Config, own_account: str | None
) -> tuple[str | None, str | None]:
    """Only where the config says: custom fields, or the latest comment with the marker.

    The description and ordinary comments stay internal to Jira.
    """
    jira = config.jira
    text = _text(issue.fields.get(jira.solution_field)) if jira.solution_field else None
    kind = _text(issue.fields.get(jira.solution_kind_field)) if jira.solution_kind_field else None
    marker = jira.solution_comment_marker
    if text is None and marker:
        for comment in reversed(issue.comments):
            body = comment.body.strip()
            if body.startswith(marker) and comment.author != own_account:
                text = body.removeprefix(marker).strip() or None
                break
    return text, (kind.lower() if kind else None)


def _text(value: Any) -> str | None:
    if isinstance(value, dict):  # a select field
        value = value.get("value")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def material_changes(before: dict[str, Any], after: Snapshot) -> list[str]:
    """What deserves a note for the agent (not mere status renames within a category)."""
    changes = []
    if before.get("category") != after.category:
        changes.append(_category_sentence(after))
    if (before.get("solution"), before.get("solution_kind")) != (
        after.solution,
        after.solution_kind,
    ):
        if after.solution:
            kind = f" ({after.solution_kind})" if after.solution_kind else ""
            changes.append(f"Agreed solution{kind}: {after.solution}")
        elif before.get("solution"):
            changes.append("The agreed solution was withdrawn.")
    if before.get("expected_fix") != after.expected_fix:
        if after.expected_fix:
            changes.append(f"Expected fix: {after.expected_fix}.")
        elif before.get("expected_fix"):
            changes.append("The expected fix date was removed.")
    return changes


def _category_sentence(s: Snapshot) -> str:
    if s.category == "done":
        return f"Jira issue {s.key} is resolved ({s.resolution or s.status})."
    if s.category == "indeterminate":
        return f"Work on Jira issue {s.key} has started ({s.status})."
    return f"Jira issue {s.key} is {s.status or 'open'}."


def ticket_update(runtime: Runtime, before: dict[str, Any], after: Snapshot) -> TicketUpdate | None:
    """The one update every linked ticket gets, or None when nothing they show changed."""
    ids = runtime.config.zendesk.fields
    wanted = {
        ids.jira_issue: after.key,
        ids.jira_status: after.status,
        ids.expected_fix: after.expected_fix,
        ids.solution: after.solution,
        ids.solution_kind: after.solution_kind,
    }
    previous = {
        ids.jira_issue: before.get("key"),
        ids.jira_status: before.get("status"),
        ids.expected_fix: before.get("expected_fix"),
        ids.solution: before.get("solution"),
        ids.solution_kind: before.get("solution_kind"),
    }
    fields = {
        fid: value
        for fid, value in wanted.items()
        if fid is not None and (not before or previous[fid] != value)
    }
    tags: list[str] = []
    remove: list[str] = []
    if after.category and before.get("category") != after.category:
        tags = [CATEGORY_TAG + after.category]
        remove = [CATEGORY_TAG + c for c in CATEGORIES if c != after.category]
    notes = material_changes(before, after) if before else []
    if not (fields or tags or notes):
        return None
    note = Comment(body="\n".join(notes), public=False) if notes else None
    return TicketUpdate(
        custom_fields=fields, additional_tags=tags, remove_tags=remove, comment=note
    )


def mirror_problem(
    runtime: Runtime, problem_id: int, issue: JiraIssue, now: datetime | None = None
) -> datetime | None:
    """Bring the problem and its tickets in line with the issue; returns when to retry if the
    debounce interval holds the write back."""
    now = now or utcnow()
    after = snapshot_of(issue, runtime.config, runtime.jira_account_id)
    debounce = timedelta(seconds=runtime.config.mirror_debounce_seconds)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        before = dict(problem.mirrored or {})
        transition = _apply_issue(session, problem, issue, after, runtime.config)
        update = ticket_update(runtime, before, after)
        if update is None:
            problem.mirrored = after.as_dict()
            return None
        due = hold_until(problem.mirror_written_at, debounce, now)
        if due is not None and transition is None:  # resolving or reopening never waits
            problem.mirror_due_at = due
            return due
        ticket_ids = list(
            session.scalars(
                select(Link.ticket_id).where(Link.problem_id == problem_id).order_by(Link.ticket_id)
            )
        )
    for chunk in batched(ticket_ids, MAX_BATCH):
        runtime.zendesk.update_many_same(list(chunk), update)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        problem.mirrored, problem.mirror_written_at, problem.mirror_due_at = (
            after.as_dict(),
            now,
            None,
        )
        if update.comment is not None:
            session.add(
                AuditEntry(
                    problem_id=problem_id,
                    action="mirror.note",
                    actor="jira",
                    detail={"note": update.comment.body, "tickets": len(ticket_ids)},
                )
            )
    log_event(log, "zendesk.mirror.written", problem=after.key, tickets=len(ticket_ids))
    return None


def prime_mirror(runtime: Runtime, problem_id: int) -> None:
    """Record a new issue's state as mirrored without writing: the tickets' confirmation, which
    follows, carries it (one Zendesk update instead of two)."""
    with runtime.db.session() as session:
        issue_id = session.get_one(Problem, problem_id).jira_issue_id
    if issue_id is None:
        return
    issue = runtime.jira.get_issue(issue_id)
    after = snapshot_of(issue, runtime.config, runtime.jira_account_id)
    with runtime.db.session() as session:
        problem = session.get_one(Problem, problem_id)
        _apply_issue(session, problem, issue, after, runtime.config)
        problem.mirrored = after.as_dict()


def _apply_issue(
    session: Any, problem: Problem, issue: JiraIssue, after: Snapshot, config: Config
) -> str | None:
    """Copy the issue's facts onto the problem; returns "resolved" / "reopened" on a change."""
    if problem.jira_key != issue.key:
        session.add(
            AuditEntry(
                problem_id=problem.id,
                action="jira.moved",
                actor="jira",
                detail={"from": problem.jira_key, "to": issue.key},
            )
        )
        problem.jira_key = issue.key
    problem.jira_status = issue.status
    problem.jira_status_category = issue.status_category
    problem.jira_resolution = issue.resolution
    problem.jira_updated_at = issue.updated
    problem.solution_text, problem.solution_kind = after.solution, after.solution_kind
    problem.due_date = issue.expected_fix
    problem.fix_version = issue.fix_version
    done = issue.status_category == "done"
    if done and problem.state is ProblemState.OPEN:
        problem.state = ProblemState.RESOLVED
        problem.outcome = config.outcomes.get(issue.resolution or "")
        problem.resolved_at = utcnow()
        detail = {"resolution": issue.resolution, "outcome": problem.outcome}
        session.add(
            AuditEntry(problem_id=problem.id, action="resolved", actor="jira", detail=detail)
        )
        return "resolved"
    if not done and problem.state is ProblemState.RESOLVED:
        problem.state = ProblemState.OPEN
        problem.resolved_at = None
        session.add(
            AuditEntry(
                problem_id=problem.id,
                action="reopened",
                actor="jira",
                detail={"status": issue.status},
            )
        )
        return "reopened"
    return None


def tracked_problem(session: Any, issue_id: str) -> Problem | None:
    return session.scalars(select(Problem).where(Problem.jira_issue_id == issue_id)).first()
