"""`GET /metrics`: process counters (webhooks, API calls and 429s, task outcomes, events
finished) plus gauges read from the database and the queue, so every web process reports the
same shared truth (problems, replies, events waiting or failed, queue depth, last deliveries).
The gauges are read at most once per `CACHE_SECONDS` per process, whatever the number of
scrapes, and each read costs the same whatever the number of stored events.

With several processes (gunicorn workers, `connector worker`), set PROMETHEUS_MULTIPROC_DIR to
a shared, empty directory in every process: the counters are then summed across them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Response
from huey import signals
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from connector.counters import TASK_SECONDS, TASKS
from connector.logs import log_event
from connector.ops.last_delivery import SOURCES
from connector.ops.shared_result import Busy, SharedResult
from connector.ops.store_gauges import (
    BACKLOG_CAP,
    BACKLOG_STATES,
    GaugeReader,
    Reading,
    StoreGauges,
)
from connector.store.models import ProblemState, ReplyState

if TYPE_CHECKING:
    from huey import Huey

    from connector.ops.context import AppContext

log = logging.getLogger(__name__)

CACHE_SECONDS = 5.0  # scrapes within this share one reading of the database
STALE_SECONDS = 30.0  # while the next reading runs, scrapes get one at most this old
WAIT_SECONDS = 5.0  # with none that recent, how long a scrape waits for the running one

_OUTCOMES = {
    signals.SIGNAL_COMPLETE: "complete",
    signals.SIGNAL_ERROR: "error",
    signals.SIGNAL_RETRYING: "retrying",
    signals.SIGNAL_CANCELED: "canceled",
    signals.SIGNAL_REVOKED: "revoked",
    signals.SIGNAL_EXPIRED: "expired",
    signals.SIGNAL_LOCKED: "locked",
    signals.SIGNAL_INTERRUPTED: "interrupted",
    signals.SIGNAL_TIMEOUT: "timeout",
    signals.SIGNAL_RATE_LIMITED: "rate_limited",
}


def instrument_huey(huey: Huey) -> None:
    """Count task outcomes and durations from Huey's signals (idempotent per Huey instance)."""
    if getattr(huey, "_connector_metrics", False):
        return
    started: dict[str, float] = {}
    lock = threading.Lock()

    @huey.signal(signals.SIGNAL_EXECUTING, *_OUTCOMES)
    def _on_signal(signal: str, task: Any, *_args: Any) -> None:
        with lock:
            if signal == signals.SIGNAL_EXECUTING:
                started[task.id] = time.monotonic()
                return
            began = started.pop(task.id, None)
        TASKS.labels(task.name, _OUTCOMES[signal]).inc()
        if began is not None and signal in (signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR):
            TASK_SECONDS.labels(task.name).observe(time.monotonic() - began)

    huey._connector_metrics = True


class StoreCollector:
    """Gauges read from the database and the queue, shared by the scrapes of a few seconds
    (see `connector.ops.shared_result`) and cheap whatever the number of stored events (see
    `connector.ops.store_gauges`)."""

    def __init__(self, runtime: AppContext) -> None:
        self.readings = SharedResult(
            GaugeReader(runtime).read,
            ttl=CACHE_SECONDS,
            max_age=max(CACHE_SECONDS, STALE_SECONDS),
            wait=WAIT_SECONDS,
        )

    def describe(self) -> list[Metric]:
        return []  # nothing is read at registration time

    def collect(self) -> Iterator[Metric]:
        try:
            reading = self.readings.get()
        except Busy:
            log_event(log, "metrics.store_busy", level=logging.WARNING)
            reading = Reading()
        if reading.queue_depth is not None:
            depth = GaugeMetricFamily("connector_queue_depth", "Tasks waiting in the queue.")
            depth.add_metric([], reading.queue_depth)
            yield depth
        up = GaugeMetricFamily(
            "connector_store_up", "1 when the database answered the latest reading, 0 otherwise."
        )
        up.add_metric([], 0 if reading.store is None else 1)
        yield up
        if reading.store is not None:
            yield from _store_families(reading.store)


def _store_families(store: StoreGauges) -> Iterator[Metric]:
    yield _by_label(
        "connector_problems",
        "Problems by state.",
        "state",
        [s.value for s in ProblemState],
        store.problems,
    )
    yield _by_label(
        "connector_replies",
        "Resolution replies by result (pending, sent, followup, skipped, failed...).",
        "state",
        [s.value for s in ReplyState],
        store.replies,
    )
    events = GaugeMetricFamily(
        "connector_inbound_events",
        f"Stored webhook deliveries waiting (pending) or failed, by source; counted up to "
        f"{BACKLOG_CAP} per state. Processed and ignored ones: "
        "connector_inbound_events_finished_total.",
        labels=["source", "state"],
    )
    for source in SOURCES:
        for state in BACKLOG_STATES:
            events.add_metric([source, state.value], store.backlog.get((source, state.value), 0))
    yield events
    last = GaugeMetricFamily(
        "connector_last_delivery_timestamp_seconds",
        "Unix time of the latest stored webhook delivery, by source.",
        labels=["source"],
    )
    for source, at in store.last_delivery.items():
        if at is not None:
            last.add_metric([source], at.timestamp())
    yield last
    awaiting = GaugeMetricFamily(
        "connector_problems_awaiting_approval",
        "Problems whose pending replies wait for an admin's approval.",
    )
    awaiting.add_metric([], store.awaiting_approval)
    yield awaiting


def _by_label(
    name: str, doc: str, label: str, known: list[str], counts: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for value in dict.fromkeys([*known, *counts]):
        family.add_metric([value], counts.get(value, 0))
    return family


def metrics_view(runtime: AppContext) -> Callable[[], Response]:
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(runtime))

    def metrics() -> Response:
        body = generate_latest(_process_registry()) + generate_latest(store)
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    return metrics


def _process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
