"""Impact in Jira: how many tickets and organisations a problem hurts, kept live but coalesced
(at most one write per problem per debounce interval), and a priority that rises with it.

Priority is raised only, never lowered, and never touched again once a human changed it in
Jira (seen as the issue's priority differing from the last one we set).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from connector import urls
from connector.batching import batched
from connector.coalesce import hold_until
from connector.config import Config
from connector.logs import log_event
from connector.store import audit, links, problems
from connector.store.models import Problem
from connector.sync.signals import OPEN_STATUSES
from connector.zendesk.models import MAX_BATCH

if TYPE_CHECKING:
    from pydantic import AnyHttpUrl

    from connector.store.db import Session
    from connector.sync.ports import (
        HasClock,
        HasConfig,
        HasJira,
        HasSettings,
        HasStore,
        HasZendesk,
        JiraPort,
        ZendeskPort,
    )

    class ImpactNeeds(HasStore, HasConfig, HasSettings, HasClock, HasZendesk, HasJira, Protocol):
        """What weighing a problem in Jira needs."""


log = logging.getLogger(__name__)
PROPERTY_KEY = "zendesk.impact"
PRIORITY_RANK = {"Lowest": 1, "Low": 2, "Medium": 3, "High": 4, "Highest": 5}
TREND_DAYS = 14


@dataclass(frozen=True)
class Impact:
    tickets: int
    open_tickets: int
    organizations: int
    first_linked: str | None
    last_linked: str | None
    customer_value: float = 0.0
    last_report: str | None = None  # the newest ticket's creation time in Zendesk
    # Tickets by their creation day in Zendesk (UTC), oldest first, today last; and the rate the
    # priority rules read: tickets created in the 24 hours before the impact was computed.
    tickets_per_day: dict[str, int] = field(default_factory=dict)
    tickets_last_day: int = 0

    def as_property(self) -> dict[str, Any]:
        return asdict(self)


def compute_impact(session: Session, problem_id: int, now: datetime) -> Impact:
    counts = links.counts(session, problem_id, OPEN_STATUSES)
    first, last, report = counts.first_linked, counts.last_linked, counts.last_report
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    per_day = dict.fromkeys((d.isoformat() for d in days), 0)
    created = links.created_since(session, problem_id, datetime.combine(days[0], time(), UTC))
    for moment in created:
        day = moment.astimezone(UTC).date().isoformat()
        if day in per_day:
            per_day[day] += 1
    return Impact(
        tickets=counts.tickets,
        open_tickets=counts.open_tickets,
        organizations=counts.organizations,
        first_linked=first.isoformat() if first else None,
        last_linked=last.isoformat() if last else None,
        last_report=report.isoformat() if report else None,
        tickets_per_day=per_day,
        tickets_last_day=sum(1 for m in created if now - timedelta(days=1) < m <= now),
    )


def desired_priority(config: Config, impact: Impact) -> str | None:
    best: str | None = None
    for step in config.priority:
        met = (
            (step.min_tickets is None or impact.tickets >= step.min_tickets)
            and (step.min_organizations is None or impact.organizations >= step.min_organizations)
            and (step.min_value is None or impact.customer_value >= step.min_value)
            and (
                step.min_tickets_per_day is None
                or impact.tickets_last_day >= step.min_tickets_per_day
            )
        )
        if met and rank(step.priority) > rank(best):
            best = step.priority
    return best


def rank(priority: str | None) -> int:
    return PRIORITY_RANK.get(priority or "", 0)


def write_impact(
    runtime: ImpactNeeds, problem_id: int, now: datetime | None = None
) -> datetime | None:
    """Write the impact if it changed and the interval allows; returns when to try again."""
    now = now or runtime.clock.now()
    debounce = timedelta(seconds=runtime.config.impact_debounce_seconds)
    value_field = runtime.config.zendesk.organization_value_field
    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        impact = compute_impact(session, problem_id, now)
        if value_field and impact.organizations:
            value = _customer_value(runtime.zendesk, str(value_field), session, problem_id)
            impact = replace(impact, customer_value=value)
        _store_counts(problem, impact)
        problems.note_emptiness(problem, impact.tickets, now)
        if not problem.jira_issue_id:
            return None
        payload = impact.as_property()
        if payload == problem.impact_written:
            problem.impact_due_at = None
            return None
        due = hold_until(problem.impact_written_at, debounce, now)
        if due is not None:
            problem.impact_due_at = due
            return due
        issue_id, priority_set = problem.jira_issue_id, problem.priority_set
        human, need_link = problem.priority_human_override, not problem.remote_link_written
        ticket_id = problem.zendesk_problem_ticket_id
        key = problem.jira_key

    fields = _impact_fields(runtime.config, impact)
    wanted = None if human else desired_priority(runtime.config, impact)
    if wanted is not None and rank(wanted) > rank(priority_set):
        current = runtime.jira.get_issue(issue_id).priority
        if priority_set is not None and current != priority_set:
            human = True
        elif rank(wanted) > rank(current):
            fields["priority"] = {"name": wanted}
    # One edit: the fields and the property together, without an email to the watchers.
    skipped = runtime.jira.edit_issue(issue_id, fields, {PROPERTY_KEY: payload}, notify=False)
    if skipped:
        log_event(log, "jira.impact.fields_skipped", problem=key, fields=",".join(skipped))
        fields = {k: v for k, v in fields.items() if k not in skipped}
    if need_link:
        _write_remote_link(runtime.jira, runtime.settings.zendesk_url, issue_id, ticket_id, key)

    with runtime.db.session() as session:
        problem = problems.get(session, problem_id)
        problem.impact_written, problem.impact_written_at, problem.impact_due_at = (
            payload,
            now,
            None,
        )
        problem.remote_link_written = True
        if human and not problem.priority_human_override:
            problem.priority_human_override = True
            audit.record(session, problem_id, "priority.human", actor="jira")
        if "priority" in fields:
            problem.priority_set = fields["priority"]["name"]
            audit.record(
                session,
                problem_id,
                "priority.raised",
                detail={"priority": problem.priority_set, "tickets": impact.tickets},
            )
    log_event(log, "jira.impact.written", problem=key, tickets=impact.tickets)
    return None


def _customer_value(
    zendesk: ZendeskPort, field_key: str, session: Session, problem_id: int
) -> float:
    """The summed customer value of the distinct organisations a problem hurts."""
    org_ids = links.organization_ids(session, problem_id)
    total = 0.0
    for chunk in batched(org_ids, MAX_BATCH):
        total += sum(zendesk.organization_values(list(chunk), field_key).values())
    return round(total, 2)


def _store_counts(problem: Problem, impact: Impact) -> None:
    problem.ticket_count = impact.tickets
    problem.open_ticket_count = impact.open_tickets
    problem.organization_count = impact.organizations
    problem.customer_value = impact.customer_value
    problem.first_linked_at = (
        datetime.fromisoformat(impact.first_linked) if impact.first_linked else None
    )
    problem.last_linked_at = (
        datetime.fromisoformat(impact.last_linked) if impact.last_linked else None
    )


def _impact_fields(config: Config, impact: Impact) -> dict[str, Any]:
    names = config.jira.impact_fields
    values: dict[str | None, Any] = {
        names.tickets: impact.tickets,
        names.open_tickets: impact.open_tickets,
        names.organizations: impact.organizations,
        names.value: impact.customer_value,
        names.last_report: _jira_time(impact.last_report),
    }
    return {name: value for name, value in values.items() if name}


def _jira_time(iso: str | None) -> str | None:
    """Jira's date-time field format (`2026-11-30T16:01:44.297+0000`)."""
    if iso is None:
        return None
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _write_remote_link(
    jira: JiraPort,
    zendesk: AnyHttpUrl | None,
    issue_id: str,
    ticket_id: int | None,
    key: str | None,
) -> None:
    if ticket_id:
        url, title = urls.zendesk_ticket(zendesk, ticket_id), f"Zendesk problem ticket #{ticket_id}"
    else:
        url, title = urls.zendesk_field_search(zendesk, key or ""), f"Zendesk tickets of {key}"
    if url is None:
        return  # no Zendesk URL configured: nothing to link to
    jira.upsert_remote_link(issue_id, f"zendesk-problem-{issue_id}", url, title)
