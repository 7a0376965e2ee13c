"""Inbound events: stored by the web tier, processed here by the handler of their source.

The handlers are given by the caller (the queue task, built once by the composition root); a
source with no handler is recorded as ignored, so nothing waits on it forever.

A batch is handled whole first (one Zendesk read per 100 tickets in a storm). When that fails,
it is handled again subject by subject (a ticket, an issue), so one bad ticket fails only its
own events; when Zendesk or Jira asks to slow down, the subjects not yet tried are given back
untried rather than hammered one by one.
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
    from connector.sync.ports import Services

log = logging.getLogger(__name__)

Handler = Callable[["Services", list[InboundEvent]], None]


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
            inbox.finish(services.db, [e.id for e in events], EventState.IGNORED)
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
        subjects = by_subject(events)
        if len(subjects) == 1:
            _failed(services, events, exc)
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
    inbox.finish(services.db, [e.id for e in events], EventState.PROCESSED)
    return []


def _handle_each(
    services: Services, handler: Handler, groups: list[list[InboundEvent]]
) -> list[Exception]:
    failures: list[Exception] = []
    for index, events in enumerate(groups):
        try:
            handler(services, events)
        except TransientError as exc:
            _failed(services, events, exc)
            failures.append(exc)
            if exc.retry_after is not None:  # asked to slow down: the rest wait, untried
                inbox.release(services.db, [e.id for g in groups[index + 1 :] for e in g])
                break
        except Exception as exc:
            _failed(services, events, exc)
            failures.append(exc)
        else:
            inbox.finish(services.db, [e.id for e in events], EventState.PROCESSED)
    return failures


def by_subject(events: list[InboundEvent]) -> dict[str, list[InboundEvent]]:
    """Events grouped by what they are about (a ticket, an issue), in order of arrival."""
    groups: dict[str, list[InboundEvent]] = {}
    for event in events:
        groups.setdefault(event.subject_id or f"event:{event.id}", []).append(event)
    return groups


def _failed(services: Services, events: list[InboundEvent], exc: Exception) -> None:
    inbox.record_failure(
        services.db,
        [e.id for e in events],
        f"{type(exc).__name__}: {exc}",
        services.settings.event_max_attempts,
    )
    log_event(
        log,
        "events.failed",
        level=logging.WARNING,
        events=len(events),
        subject=events[0].subject_id,
        error=type(exc).__name__,
    )
