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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from connector.coalesce import hold_until
from connector.config import Config
from connector.fields import MIRRORED_FIELDS, Snapshot
from connector.jira.models import JiraIssue
from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store.models import Problem, ProblemState
from connector.zendesk.models import Comment, TicketUpdate
from connector.zendesk.text import inert

if TYPE_CHECKING:
    from connector.store.db import Session
    from connector.sync.ports import (
        HasClock,
        HasConfig,
        HasIdentity,
        HasJira,
        HasStore,
        HasZendesk,
    )

    class MirrorNeeds(HasStore, HasConfig, HasClock, HasZendesk, HasIdentity, Protocol):
        """What mirroring an issue onto its tickets needs."""

    class PrimeNeeds(HasStore, HasConfig, HasClock, HasJira, HasIdentity, Protocol):
        """What recording a new issue as mirrored needs."""


log = logging.getLogger(__name__)


def snapshot_of(issue: JiraIssue, config: Config, own_account: str | None) -> Snapshot:
    return Snapshot.read(issue, config, own_account)


def material_changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What deserves a note for the agent: one line per field whose material facts changed.

    A fact the stored snapshot does not know (stored before the fact existed) is shown on the
    tickets but not reported as a change.
    """
    changes = []
    for spec in MIRRORED_FIELDS:
        if spec.note and any(
            before.has(fact) and before[fact] != after[fact] for fact in spec.material
        ):
            line = spec.note(before, after)
            if line:
                changes.append(line)
    return changes


def ticket_update(config: Config, before: dict[str, Any], after: Snapshot) -> TicketUpdate | None:
    """The one update every linked ticket gets, or None when nothing they show changed."""
    shown = Snapshot.load(before)
    fields = changed_fields(config, shown, after)
    tags, remove = changed_tags(shown, after)
    notes = material_changes(shown, after) if shown else []
    if not (fields or tags or notes):
        return None
    # The lines quote Jira (status names, the solution): made inert, Zendesk renders no Liquid.
    note = Comment(body=inert("\n".join(notes)), public=False) if notes else None
    return TicketUpdate(
        custom_fields=fields, additional_tags=tags, remove_tags=remove, comment=note
    )


def changed_fields(config: Config, before: Snapshot, after: Snapshot) -> dict[int, Any]:
    """Field id -> value for every configured mirrored field whose fact is new or changed."""
    ids = config.zendesk.fields
    fields: dict[int, Any] = {}
    for spec in MIRRORED_FIELDS:
        field_id, fact = ids.id_of(spec.key), str(spec.mirrors)
        if field_id is None or not after.has(fact):  # unconfigured, or not known yet
            continue
        if not before.has(fact) or before[fact] != after[fact]:
            fields[field_id] = spec.value(after)
    return fields


def cleared(config: Config) -> tuple[dict[int, Any], list[str]]:
    """What unlinking takes off a ticket: every configured mirrored field emptied and every tag
    the mirror may have added removed, so nothing of the old problem stays on it."""
    ids = config.zendesk.fields
    fields: dict[int, Any] = {}
    tags: list[str] = []
    for spec in MIRRORED_FIELDS:
        field_id = ids.id_of(spec.key)
        if field_id is not None:
            fields[field_id] = None
        if spec.tags:
            tags += [spec.tags.prefix + value for value in spec.tags.values]
    return fields, tags


def changed_tags(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
    """Tags to add and remove: the one for the fact's new value replaces its siblings."""
    add: list[str] = []
    remove: list[str] = []
    for tags in (spec.tags for spec in MIRRORED_FIELDS if spec.tags):
        wanted = after[tags.fact]
        if wanted and before[tags.fact] != wanted:
            add.append(tags.prefix + wanted)
            remove += [tags.prefix + v for v in tags.values if v != wanted]
    return add, remove


def mirror_problem(
    runtime: MirrorNeeds, problem_id: int, issue: JiraIssue, now: datetime | None = None
) -> datetime | None:
    """Bring the problem and its tickets in line with the issue; returns when to retry if the
    debounce interval holds the write back."""
    now = now or runtime.clock.now()
    after = snapshot_of(issue, runtime.config, runtime.jira_account_id)
    debounce = timedelta(seconds=runtime.config.mirror_debounce_seconds)
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        before = dict(problem.mirrored or {})
        transition = _apply_issue(session, problem, issue, after, runtime.config, now)
        update = ticket_update(runtime.config, before, after)
        if update is None:
            problem.mirrored = after.as_dict()
            return None
        due = hold_until(problem.mirror_written_at, debounce, now)
        if due is not None and transition is None:  # resolving or reopening never waits
            problem.mirror_due_at = due
            return due
        ticket_ids = links.ticket_ids(session, problem_id)
    runtime.zendesk.update_all(ticket_ids, update)
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        problem.mirrored, problem.mirror_written_at, problem.mirror_due_at = (
            after.as_dict(),
            now,
            None,
        )
        if update.comment is not None:
            audit.record(
                session,
                problem_id,
                "mirror.note",
                actor="jira",
                detail={"note": update.comment.body, "tickets": len(ticket_ids)},
            )
    log_event(log, "zendesk.mirror.written", problem=after["key"], tickets=len(ticket_ids))
    return None


def prime_mirror(runtime: PrimeNeeds, problem_id: int) -> None:
    """Record a new issue's state as mirrored without writing: the tickets' confirmation, which
    follows, carries it (one Zendesk update instead of two)."""
    with runtime.db.session() as session:
        issue_id = problems.get(session, problem_id).jira_issue_id
    if issue_id is None:
        return
    issue = runtime.jira.get_issue(issue_id)
    after = snapshot_of(issue, runtime.config, runtime.jira_account_id)
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        _apply_issue(session, problem, issue, after, runtime.config, runtime.clock.now())
        problem.mirrored = after.as_dict()


def _apply_issue(
    session: Session,
    problem: Problem,
    issue: JiraIssue,
    after: Snapshot,
    config: Config,
    now: datetime,
) -> str | None:
    """Copy the issue's facts onto the problem; returns "resolved" / "reopened" on a change."""
    if problem.jira_key != issue.key:
        audit.record(
            session,
            problem.id,
            "jira.moved",
            actor="jira",
            detail={"from": problem.jira_key, "to": issue.key},
        )
        problem.jira_key = issue.key
    problem.jira_status = issue.status
    problem.jira_status_category = issue.status_category
    problem.jira_resolution = issue.resolution
    problem.jira_updated_at = issue.updated
    problem.solution_text, problem.solution_kind = after["solution"], after["solution_kind"]
    problem.due_date = issue.expected_fix
    problem.fix_version = issue.fix_version
    done = issue.status_category == "done"
    if done and problem.state is ProblemState.OPEN:
        problem.state = ProblemState.RESOLVED
        problem.outcome = config.outcomes.get(issue.resolution or "")
        problem.resolved_at = now
        detail = {"resolution": issue.resolution, "outcome": problem.outcome}
        audit.record(session, problem.id, "resolved", actor="jira", detail=detail)
        return "resolved"
    if not done and problem.state is ProblemState.RESOLVED:
        problem.state = ProblemState.OPEN
        problem.resolved_at = None
        audit.record(session, problem.id, "reopened", actor="jira", detail={"status": issue.status})
        return "reopened"
    return None


def tracked_problem(session: Session, issue_id: str) -> Problem | None:
    return problems.by_issue_id(session, issue_id)
