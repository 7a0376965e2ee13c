"""Jira events: re-read each issue they name and mirror it; deleted and duplicate-resolved
issues, moves and reopenings are handled here. Events caused by the connector's own Jira
account are skipped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connector.errors import NotFoundError
from connector.inbound_model import IssueChange
from connector.jira.models import JiraIssue
from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store.models import InboundEvent, LinkVia, ProblemState
from connector.sync.confirm import confirm_links
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.mirror import mirror_problem, tracked_problem
from connector.sync.problems import Cause, ensure_problem
from connector.zendesk.models import Comment, TicketUpdate

if TYPE_CHECKING:
    from connector.config import Config
    from connector.store.db import Database
    from connector.sync.ports import Services, ZendeskPort

log = logging.getLogger(__name__)


def issues_to_read(batch: list[InboundEvent], own_account: str | None) -> dict[str, str]:
    """Issue id -> the latest event type seen for it, without the connector's own changes."""
    wanted: dict[str, str] = {}
    for event in batch:
        change = IssueChange.from_payload(event.payload)
        if own_account and change.actor_account_id == own_account:
            continue
        wanted[change.issue_id] = change.webhook_event
    return wanted


def mirror_problem_now(runtime: Services, problem_id: int) -> None:
    """The mirror task: read the problem's issue now and mirror it (its debounce fell due)."""
    with runtime.db.session() as session:
        problem = problems.find(session, problem_id)
        issue_id = problem.jira_issue_id if problem else None
    if issue_id:
        sync_issue(runtime, issue_id)


def sync_issue(runtime: Services, issue_id: str) -> None:
    with runtime.db.session() as session:
        problem = tracked_problem(session, issue_id)
        if problem is None or problem.state is ProblemState.DELETED:
            return
        problem_id, was = problem.id, problem.state
    try:
        issue = runtime.jira.get_issue(issue_id)
    except NotFoundError:
        close_deleted(runtime.db, runtime.zendesk, runtime.config, problem_id)
        return
    mirror_issue(runtime, problem_id, issue, was)


def mirror_issue(
    runtime: Services,
    problem_id: int,
    issue: JiraIssue,
    was: ProblemState,
) -> None:
    try:
        due = mirror_problem(runtime, problem_id, issue)
    except Exception:
        # The resolution is recorded before the tickets are written: the customers' replies
        # do not wait for the mirror (its event is retried on its own). A duplicate's tickets
        # move to the surviving issue first, so that waits for the retry.
        if not issue.duplicate_of:
            _start_replies(runtime, problem_id)
        raise
    if due is not None:
        runtime.scheduler.mirror_at(problem_id, due)
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        now_state, outcome = problem.state, problem.outcome
    if now_state is ProblemState.RESOLVED and issue.duplicate_of and outcome == "duplicate":
        relink_duplicate(runtime, problem_id, issue.duplicate_of)
    _start_replies(runtime, problem_id)
    if was is not now_state:
        sync_known_problem_options(runtime)  # "(resolved)" in the dropdown, or not any more
        log_event(log, f"problem.{now_state.value}", problem=issue.key, outcome=outcome)


def _start_replies(runtime: Services, problem_id: int) -> None:
    """Ask for the fan-out when the problem owes replies: resolved, or a workaround to send."""
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        resolved = problem.state is ProblemState.RESOLVED
        workaround = problem.solution_kind == "workaround"
    if resolved or (runtime.config.replies.send_workaround and workaround):
        runtime.scheduler.fanout(problem_id)


def close_deleted(db: Database, zendesk: ZendeskPort, config: Config, problem_id: int) -> None:
    """A deleted issue: an internal note on the tickets, the problem closed, no customer reply."""
    with db.session() as session:
        key = problems.get(session, problem_id).jira_key
        ticket_ids = links.ticket_ids(session, problem_id)
    note = (
        f"Jira issue {key} was deleted. This ticket no longer follows a problem; "
        "no reply will be sent from Jira."
    )
    update = TicketUpdate(comment=Comment(body=note, public=False))
    field = config.zendesk.fields.jira_issue
    if field is not None:
        update.custom_fields = {field: None}
    zendesk.update_all(ticket_ids, update)
    with db.session() as session:
        problems.get(session, problem_id).state = ProblemState.DELETED
        links.remove_all(session, problem_id)
        audit.record(
            session,
            problem_id,
            "jira.deleted",
            actor="jira",
            detail={"key": key, "tickets": len(ticket_ids)},
        )
    log_event(log, "problem.deleted", problem=key, tickets=len(ticket_ids))


def relink_duplicate(runtime: Services, problem_id: int, survivor_key: str) -> None:
    """Resolved as a duplicate: its tickets follow the surviving issue's problem."""
    with runtime.db.session() as session:
        survivor = problems.by_jira_key(session, survivor_key)
        survivor_id = survivor.id if survivor else None
    if survivor_id is None:
        issue = runtime.jira.get_issue(survivor_key)
        team = runtime.config.team_for_project(issue.project)
        if team is None:
            return
        with runtime.db.session() as session:
            cause = Cause(f"jira:{issue.id}", team, issue.summary, None, issue.id, issue.key)
            survivor_id = ensure_problem(session, cause).id
    moved = 0
    with runtime.db.session() as session:
        for link in links.of_problem(session, problem_id):
            link.problem_id, link.via, link.confirmed = survivor_id, LinkVia.RELINK, False
            audit.record(
                session,
                survivor_id,
                "move",
                ticket_id=link.ticket_id,
                actor="jira",
                detail={"via": "duplicate", "from": problem_id},
            )
            moved += 1
    confirm_links(runtime, survivor_id)
    log_event(log, "problem.duplicate.relinked", survivor=survivor_key, tickets=moved)


def handle(runtime: Services, batch: list[InboundEvent]) -> None:
    """The handler of Jira events: re-read each issue they name and mirror it."""
    own_account = runtime.jira_account_id
    wanted = issues_to_read(batch, own_account)
    own = [
        e
        for e in batch
        if own_account and IssueChange.from_payload(e.payload).actor_account_id == own_account
    ]
    if own:
        log_event(
            log, "jira.events.own_skipped", events=len(own), account=own_account, reason=OWN_REASON
        )
    for issue_id in sorted(wanted):
        sync_issue(runtime, issue_id)
    log_event(log, "jira.events.handled", events=len(batch), issues=len(wanted))


OWN_REASON = (
    "made by the connector's own Jira account (CONNECTOR_JIRA_EMAIL or the PAT's user): its own "
    "writes coming back. A person who acts with that login is ignored too: give the connector a "
    "dedicated account"
)
