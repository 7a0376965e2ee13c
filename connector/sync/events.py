"""Inbound events: stored by the web tier, processed here by the handler of their source.

The handlers are given by the caller (the queue task, built once by the composition root); a
source with no handler is recorded as ignored, so nothing waits on it forever.

A batch is handled whole first (one Zendesk read per 100 tickets in a storm). When that fails,
it is handled again subject by subject (a ticket, an issue), so one bad ticket fails only its
own events. That pass stops, giving the subjects not yet tried back untouched, as soon as the
failure looks shared rather than the subject's own: two subjects in a row fail on a transient
error (an outage), or half the claim's time is spent (so no other worker takes the events over
while they are being handled). When Zendesk or Jira asks to slow down (a Retry-After, for the
batch or a subject), the whole batch waits: the subjects are not at fault.

A failed event is not dropped: it waits in the inbox until its next attempt (`Horizon`: backoff
capped at CONNECTOR_RETRY_LATER_MAX_SECONDS, or the Retry-After), and the run asks the
scheduler to come back when the earliest waiting event is due, so an outage heals by itself once
it ends. Only an event failing for longer than the retry horizon (or refused for good
CONNECTOR_EVENT_MAX_ATTEMPTS times) is parked as failed, for `connector events retry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connector.errors import AuthError, TransientError
from connector.logs import log_event
from connector.retry import Horizon
from connector.store import inbox
from connector.store.models import EventState, InboundEvent

if TYPE_CHECKING:
    from connector.store.db import Database
    from connector.sync.ports import Services

log = logging.getLogger(__name__)

Handler = Callable[["Services", list[InboundEvent]], None]
OUTAGE_AFTER = 2  # transient failures of subjects in a row that end the per-subject pass


def process_pending(
    services: Services, handlers: Mapping[str, Handler], limit: int | None = None
) -> int:
    """Process one batch of due events; returns how many were taken.

    Failures are recorded on their events (each waits for its next attempt); when any event
    waits, the scheduler is asked to run again when the earliest is due.
    """
    settings = services.settings
    batch = inbox.claim(
        services.db,
        limit or settings.event_batch_size,
        timedelta(seconds=settings.event_claim_timeout_seconds),
        services.clock.now(),
    )
    by_source: dict[str, list[InboundEvent]] = {}
    for event in batch:
        by_source.setdefault(event.source, []).append(event)
    for source, events in by_source.items():
        handler = handlers.get(source)
        if handler is None:
            inbox.finish(services.db, events, EventState.IGNORED)
            for event in events:
                log_event(log, "event.ignored", source=event.source, type=event.event_type)
            continue
        _handle(services, handler, events)
    now = services.clock.now()
    due = inbox.next_attempt_after(services.db, now)
    if due is not None:
        services.scheduler.process_events_at(due, now)
    return len(batch)


def _handle(services: Services, handler: Handler, events: list[InboundEvent]) -> None:
    try:
        handler(services, events)
    except Exception as exc:
        subjects = by_subject(events)
        if _asks_to_wait(exc) or len(subjects) == 1:  # a Retry-After: no subject is at fault
            _failed(services, events, exc)
            return
        log_event(
            log,
            "events.batch_failed",
            level=logging.WARNING,
            events=len(events),
            subjects=len(subjects),
            error=type(exc).__name__,
        )
        _handle_each(services, handler, list(subjects.values()))
        return
    inbox.finish(services.db, events, EventState.PROCESSED)


def _handle_each(services: Services, handler: Handler, groups: list[list[InboundEvent]]) -> None:
    clock = services.clock
    deadline = clock.monotonic() + services.settings.event_claim_timeout_seconds / 2
    transient_in_a_row = 0
    for index, events in enumerate(groups):
        try:
            handler(services, events)
        except Exception as exc:
            retry_at = _failed(services, events, exc)
            if _asks_to_wait(exc):  # not the other subjects' fault either: they wait as long
                _give_back(services.db, groups[index + 1 :], "asked to wait", retry_at)
                return
            transient = isinstance(exc, TransientError | TimeoutError)
            transient_in_a_row = transient_in_a_row + 1 if transient else 0
            if transient_in_a_row >= OUTAGE_AFTER:
                _give_back(services.db, groups[index + 1 :], "shared failure", retry_at)
                return
        else:
            transient_in_a_row = 0
            inbox.finish(services.db, events, EventState.PROCESSED)
        if clock.monotonic() > deadline:
            if groups[index + 1 :]:  # untried, not failed: another run takes them at once
                _give_back(services.db, groups[index + 1 :], "claim time")
                services.scheduler.process_events()
            return


def _asks_to_wait(exc: Exception) -> bool:
    return isinstance(exc, TransientError) and exc.retry_after is not None


def _give_back(
    db: Database, groups: list[list[InboundEvent]], why: str, not_before: datetime | None = None
) -> None:
    untried = [e for group in groups for e in group]
    if untried:
        inbox.release(db, untried, not_before)
        log_event(log, "events.given_back", events=len(untried), reason=why)


def by_subject(events: list[InboundEvent]) -> dict[str, list[InboundEvent]]:
    """Events grouped by what they are about (a ticket, an issue), in order of arrival."""
    groups: dict[str, list[InboundEvent]] = {}
    for event in events:
        groups.setdefault(event.subject_id or f"event:{event.id}", []).append(event)
    return groups


def _failed(services: Services, events: list[InboundEvent], exc: Exception) -> datetime:
    """Record the failure on the events; when they are tried again."""
    horizon = Horizon.for_events(services.settings)
    now = services.clock.now()
    attempt = max(e.attempts for e in events) + 1
    # Credentials refused (a revoked token) stop everything until an admin fixes them: an
    # outage, not this event's fault.
    curable = isinstance(exc, TransientError | TimeoutError | AuthError)
    plan = horizon.plan(now, attempt, getattr(exc, "retry_after", None), curable=curable)
    error = f"{type(exc).__name__}: {exc}"
    parked = inbox.record_failure(services.db, events, error, plan)
    log_event(
        log,
        "events.failed",
        level=logging.WARNING,
        events=len(events),
        subject=events[0].subject_id,
        error=type(exc).__name__,
        attempt=attempt,
        retry_in=round((plan.retry_at - now).total_seconds(), 1),
        parked=parked,
    )
    return plan.retry_at
