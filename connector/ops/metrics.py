"""`GET /metrics`: process counters (webhooks, API calls and 429s, task outcomes) plus gauges
read from the database and the queue at scrape time, so every web process reports the same
shared truth (problems, replies, inbound events, queue depth, last deliveries).

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
from connector.ops import queries
from connector.store.models import EventState, ProblemState, ReplyState

if TYPE_CHECKING:
    from huey import Huey

    from connector.ops.context import AppContext

log = logging.getLogger(__name__)

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
    """Gauges derived from the database and the queue, computed when Prometheus scrapes."""

    def __init__(self, runtime: AppContext) -> None:
        self.runtime = runtime

    def describe(self) -> list[Metric]:
        return []  # nothing is read at registration time

    def collect(self) -> Iterator[Metric]:
        yield from self._queue()
        up = GaugeMetricFamily(
            "connector_store_up", "1 when the database answered this scrape, 0 otherwise."
        )
        try:
            families = list(self._store())
        except Exception as exc:
            log_event(log, "metrics.store_unavailable", level=logging.WARNING, error=_name(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _queue(self) -> Iterator[Metric]:
        from connector.queue import queue_depth

        depth = GaugeMetricFamily("connector_queue_depth", "Tasks waiting in the queue.")
        try:
            depth.add_metric([], queue_depth(self.runtime.huey))
        except Exception as exc:
            log_event(log, "metrics.queue_unavailable", level=logging.WARNING, error=_name(exc))
            return
        yield depth

    def _store(self) -> Iterator[Metric]:
        db = self.runtime.db
        yield _by_label(
            "connector_problems",
            "Problems by state.",
            "state",
            [s.value for s in ProblemState],
            queries.problem_counts(db),
        )
        yield _by_label(
            "connector_replies",
            "Resolution replies by result (pending, sent, followup, skipped, failed...).",
            "state",
            [s.value for s in ReplyState],
            queries.reply_counts(db),
        )
        events = GaugeMetricFamily(
            "connector_inbound_events",
            "Stored webhook deliveries by source and processing state.",
            labels=["source", "state"],
        )
        counts = queries.event_counts(db)
        for source in ("zendesk", "jira"):
            for state in EventState:
                events.add_metric([source, state.value], counts.get((source, state.value), 0))
        yield events
        last = GaugeMetricFamily(
            "connector_last_delivery_timestamp_seconds",
            "Unix time of the latest stored webhook delivery, by source.",
            labels=["source"],
        )
        for source, at in queries.last_deliveries(db).items():
            if at is not None:
                last.add_metric([source], at.timestamp())
        yield last
        awaiting = GaugeMetricFamily(
            "connector_problems_awaiting_approval",
            "Problems whose pending replies wait for an admin's approval.",
        )
        awaiting.add_metric([], queries.awaiting_approval(self.runtime))
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


def _name(exc: BaseException) -> str:
    return type(exc).__name__
