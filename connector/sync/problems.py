"""Problems and their Jira issues: one problem per cause, one Jira issue per problem.

Exactly once, across processes and crashes:
- the problem row is unique per cause (`cause_key`), so racing workers collide in the database;
- creating its Jira issue is claimed with a compare-and-set on the row, so one process creates;
- the issue carries a marker label, searched before creating, so a crash between "Jira created
  it" and "we stored its key" adopts the issue instead of creating a second one. The label
  says what it is and whose (`zendesk-problem-17-acme`: problem ticket 17 of the install
  `acme`), so two installations sharing a Jira site never adopt each other's issues.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from connector import urls
from connector.errors import NotFoundError
from connector.jira.text import wiki_plain
from connector.logs import log_event
from connector.store import audit, links
from connector.store import problems as stored
from connector.store.models import Problem

if TYPE_CHECKING:
    from pydantic import AnyHttpUrl

    from connector.config import Config
    from connector.store.db import Session
    from connector.sync.ports import (
        HasConfig,
        HasJira,
        HasSettings,
        HasStore,
        HasZendesk,
        ZendeskPort,
    )
    from connector.zendesk.models import Ticket

    class CreationNeeds(HasStore, HasConfig, HasSettings, HasJira, HasZendesk, Protocol):
        """What creating a problem's Jira issue needs (Zendesk: its first ticket, for the
        description)."""


log = logging.getLogger(__name__)
LEGACY_MARKER_PREFIX = "zd-cause-"  # labels before they were readable; still searched


@dataclass(frozen=True)
class Cause:
    key: str  # "zendesk:<problem ticket id>", "rule:<team>:<cause>", "jira:<issue id>"
    team: str
    summary: str
    zendesk_problem_ticket_id: int | None = None
    jira_issue_id: str | None = None
    jira_key: str | None = None


def marker_label(cause_key: str, install_id: str) -> str:
    """`zendesk-problem-<ticket>-<install>` or `zendesk-rule-<team>-<cause>-<hash>-<install>`
    (the hash keeps causes apart that differ only in what a label cannot hold)."""
    kind, _, rest = cause_key.partition(":")
    if kind == "zendesk":
        return f"zendesk-problem-{_slug(rest)}-{install_id}"
    digest = hashlib.sha1(cause_key.encode()).hexdigest()[:6]
    return f"zendesk-{_slug(kind)}-{_slug(rest)[:60]}-{digest}-{install_id}"


def legacy_marker_label(cause_key: str) -> str:
    return LEGACY_MARKER_PREFIX + hashlib.sha1(cause_key.encode()).hexdigest()[:12]


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())) or "x"


def ensure_problem(session: Session, cause: Cause) -> Problem:
    """The problem of this cause, created if needed; safe under concurrent callers."""
    candidate = Problem(
        cause_key=cause.key,
        team=cause.team,
        summary=cause.summary[:255] or cause.key,
        zendesk_problem_ticket_id=cause.zendesk_problem_ticket_id,
        jira_issue_id=cause.jira_issue_id,
        jira_key=cause.jira_key,
    )
    problem, created = stored.ensure(session, candidate)
    if created:
        audit.record(session, problem.id, "problem.created", detail={"cause": cause.key})
        log_event(log, "problem.created", problem_id=problem.id, cause=cause.key, team=cause.team)
    return problem


def claim_jira_creation(runtime: CreationNeeds, problem_id: int) -> str | None:
    """The caller that gets a token creates the Jira issue (a lease on the problem's row)."""
    timeout = timedelta(seconds=runtime.settings.jira_create_claim_seconds)
    return stored.claim_jira_creation(runtime.db, problem_id, timeout)


def create_jira_issue(runtime: CreationNeeds, problem_id: int) -> bool:
    """Create (or adopt after a crash) the Jira issue of a problem; True if this call did."""
    token = claim_jira_creation(runtime, problem_id)
    if token is None:
        return False
    with runtime.db.session() as session:
        problem = stored.get(session, problem_id)
        cause_key, team_key, summary = problem.cause_key, problem.team, problem.summary
        ticket_id = problem.zendesk_problem_ticket_id
        first_id = _first_ticket_id(session, problem)
    label = marker_label(cause_key, runtime.config.install_id_for(runtime.settings.zendesk_url))
    labels = f'labels in ("{label}", "{legacy_marker_label(cause_key)}")'
    try:
        found = runtime.jira.search(labels, ["summary"], limit=1).issues
        if found:
            issue_id, key, action = found[0].id, found[0].key, "jira.adopted"
        else:
            zendesk_url = runtime.settings.zendesk_url
            first = _first_ticket(runtime.zendesk, first_id)
            fields = issue_fields(runtime.config, zendesk_url, team_key, summary, label, ticket_id)
            fields["description"] = description(runtime.config, zendesk_url, ticket_id, first)
            issue_id, key = runtime.jira.create_issue(fields)
            action = "jira.created"
    except Exception:
        stored.release_jira_creation(runtime.db, problem_id, token)
        raise
    with runtime.db.session() as session:
        stored.record_jira_issue(session, problem_id, issue_id, key)
        audit.record(session, problem_id, action, detail={"key": key})
    log_event(log, action, problem_id=problem_id, key=key, team=team_key)
    return True


ADOPTED_OPENING = "Customers in Zendesk now follow this issue (the connector adopted it)."


def comment_on_adopted_issue(runtime: CreationNeeds, problem_id: int) -> bool:
    """An issue an engineer wrote, adopted by its pasted key, keeps its description and gets
    the summary once, as a comment. Exactly once: a claim on the problem, the comment looked
    up on the issue before posting (a crash after posting), and an audit entry after."""
    timeout = timedelta(seconds=runtime.settings.jira_create_claim_seconds)
    token = stored.claim_adoption_comment(runtime.db, problem_id, timeout)
    if token is None:
        return False
    posted = False
    try:
        with runtime.db.session() as session:
            problem = stored.get(session, problem_id)
            key, ticket_id = problem.jira_key, problem.zendesk_problem_ticket_id
            first_id = _first_ticket_id(session, problem)
        if key is None:
            return False
        issue = runtime.jira.get_issue(key)
        posted = any(ADOPTED_OPENING in c.body for c in issue.comments)
        if not posted:
            zendesk_url = runtime.settings.zendesk_url
            first = _first_ticket(runtime.zendesk, first_id)
            body = description(runtime.config, zendesk_url, ticket_id, first)
            runtime.jira.add_comment(key, f"{ADOPTED_OPENING}\n\n{body}")
            posted = True
            log_event(log, "jira.adoption.commented", problem_id=problem_id, key=key)
    finally:
        stored.finish_adoption_comment(runtime.db, problem_id, token, posted)
    return posted


def issue_fields(
    config: Config,
    zendesk_url: AnyHttpUrl | None,
    team_key: str,
    summary: str,
    label: str,
    ticket_id: int | None,
) -> dict[str, Any]:
    team = config.teams[team_key]
    fields: dict[str, Any] = {
        "project": {"key": team.jira_project},
        "issuetype": {"name": team.issue_type},
        "summary": summary[:255],
        "description": description(config, zendesk_url, ticket_id, None),
        "labels": sorted({*team.labels, label}),
    }
    if team.components:
        fields["components"] = [{"name": c} for c in team.components]
    return fields


def _first_ticket_id(session: Session, problem: Problem) -> int | None:
    """The ticket the summary names as the first report: the problem ticket, else the lowest
    linked ticket."""
    if problem.zendesk_problem_ticket_id:
        return problem.zendesk_problem_ticket_id
    return min((link.ticket_id for link in links.of_problem(session, problem.id)), default=None)


def _first_ticket(zendesk: ZendeskPort, ticket_id: int | None) -> Ticket | None:
    if ticket_id is None:
        return None
    try:
        return zendesk.get_ticket(ticket_id)
    except NotFoundError:  # deleted meanwhile: the summary goes without it
        return None


def description(
    config: Config, zendesk_url: AnyHttpUrl | None, problem_ticket: int | None, first: Ticket | None
) -> str:
    """The short summary an engineer reads (Jira wiki markup): where the customers are in
    Zendesk, how and when they first reported, and where the live numbers are. Customer text
    (the subject, only with `include_personal_data`) is escaped, so it cannot format, link or
    mention."""
    lines = ["*Reported by customers in Zendesk*"]
    if problem_ticket:
        url = urls.zendesk_ticket(zendesk_url, problem_ticket)
        where = _ticket_link(problem_ticket, url)
        lines.append(f"Zendesk problem ticket: {where}")
    else:
        lines.append(
            "Linked tickets: in Zendesk, search for this issue's key (fieldvalue:KEY); the "
            "connector writes it into each linked ticket's Jira issue field."
        )
    if first is not None:
        url = urls.zendesk_ticket(zendesk_url, first.id)
        ticket = _ticket_link(first.id, url)
        at = first.created_at
        when = f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "time unknown"
        channel = wiki_plain(first.channel or "unknown channel")
        lines.append(f"First report: ticket {ticket}, via {channel}, {when}")
        if config.zendesk.include_personal_data and first.subject:
            lines.append(f"Subject: {wiki_plain(first.subject)}")
    lines += [
        "",
        "Live numbers: the fields Zendesk tickets, Open tickets, Organizations and Last customer "
        "report (and the issue property zendesk.impact), kept up to date by the connector.",
    ]
    return "\n".join(lines)


def _ticket_link(ticket_id: int, url: str | None) -> str:
    return f"[#{ticket_id}|{url}]" if url else f"#{ticket_id}"
