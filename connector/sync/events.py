"""Inbound events: stored by the web tier, processed here by the handler of their source.

The handlers are given by the caller (the queue task, built once by the composition root); a
source with no handler is recorded as ignored, so nothing waits on it forever.

A batch is handled whole first (one Zendesk read per 100 tickets in a storm). When that fails,
it is handled again subject by subject (a ticket, an issue), so one bad ticket fails only its
own events. That pass stops, giving the subjects not yet tried back untouched, as soon as the
failure looks shared rather than the subject's own: two subjects in a row fail on a transient
error (an outage), or half the claim's time is spent (so no other worker takes the events over
while they are being handled). When Zendesk or Jira asks to slow down (a Retry-After, for the
batch or a subject), the events are given back without counting an attempt: they are not at
fault, and the queue's retry or the next reconcile takes them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from connector.errors import TransientError
from connector.logs import log_event
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
    """Process one batch of pending events; returns how many were taken.

    Raises the first failure after every subject had its chance, so the queue retries the
    task (the failed events stay pending until their attempts run out).
    """
    settings = services.settings
    batch = inbox.claim(
        services.db,
        limit or settings.event_batch_size,
        timedelta(seconds=settings.event_claim_timeout_seconds),
    )
    by_source: dict[str, list[InboundEvent]] = {}
    for event in batch:
        by_source.setdefault(event.source, []).append(event)
    failures: list[Exception] = []
    for source, events in by_source.items():
        handler = handlers.get(source)
        if handler is None:
            inbox.finish(services.db, events, EventState.IGNORED)
            for event in events:
                log_event(log, "event.ignored", source=event.source, type=event.event_type)
            continue
        failures += _handle(services, handler, events)
    if failures:
        raise failures[0]
    return len(batch)


def _handle(services: Services, handler: Handler, events: list[InboundEvent]) -> list[Exception]:
    try:
        handler(services, events)
    except Exception as exc:
        if _asks_to_wait(exc):  # not the events' fault: no attempt counted
            _give_back(services.db, [events], "asked to wait")
            return [exc]
        subjects = by_subject(events)
        if len(subjects) == 1:
            _failed(services.db, services.settings.event_max_attempts, events, exc)
            return [exc]
        log_event(
            log,
            "events.batch_failed",
            level=logging.WARNING,
            events=len(events),
            subjects=len(subjects),
            error=type(exc).__name__,
        )
        return _handle_each(services, handler, list(subjects.values()))
    inbox.finish(services.db, events, EventState.PROCESSED)
    return []


def _handle_each(
    services: Services, handler: Handler, groups: list[list[InboundEvent]]
) -> list[Exception]:
    clock = services.clock
    deadline = clock.monotonic() + services.settings.event_claim_timeout_seconds / 2
    failures: list[Exception] = []
    transient_in_a_row = 0
    for index, events in enumerate(groups):
        try:
            handler(services, events)
        except Exception as exc:
            failures.append(exc)
            if _asks_to_wait(exc):  # not the events' fault: no attempt counted
                _give_back(services.db, groups[index:], "asked to wait")
                break
            _failed(services.db, services.settings.event_max_attempts, events, exc)
            transient = isinstance(exc, TransientError | TimeoutError)
            transient_in_a_row = transient_in_a_row + 1 if transient else 0
            if transient_in_a_row >= OUTAGE_AFTER:
                _give_back(services.db, groups[index + 1 :], "shared failure")
                break
        else:
            transient_in_a_row = 0
            inbox.finish(services.db, events, EventState.PROCESSED)
        if clock.monotonic() > deadline:
            _give_back(services.db, groups[index + 1 :], "claim time")
            break
    return failures


def _asks_to_wait(exc: Exception) -> bool:
    return isinstance(exc, TransientError) and exc.retry_after is not None


def _give_back(db: Database, groups: list[list[InboundEvent]], why: str) -> None:
    untried = [e for group in groups for e in group]
    if untried:
        inbox.release(db, untried)
        log_event(log, "events.given_back", events=len(untried), reason=why)


def by_subject(events: list[InboundEvent]) -> dict[str, list[InboundEvent]]:
    """Events grouped by what they are about (a ticket, an issue), in order of arrival."""
    groups: dict[str, list[InboundEvent]] = {}
    for event in events:
        groups.setdefault(event.subject_id or f"event:{event.id}", []).append(event)
    return groups


def _failed(db: Database, max_attempts: int, events: list[InboundEvent], exc: Exception) -> None:
    inbox.record_failure(db, events, f"{type(exc).__name__}: {exc}", max_attempts)
    log_event(
        log,
        "events.failed",
        level=logging.WARNING,
        events=len(events),
        subject=events[0].subject_id,
        error=type(exc).__name__,
    )
