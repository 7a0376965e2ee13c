"""Process-wide Prometheus counters, kept free of heavy imports so the HTTP transport can use
them. Set PROMETHEUS_MULTIPROC_DIR to aggregate them across gunicorn and worker processes."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

API_CALLS = Counter(
    "connector_api_calls_total", "HTTP calls made to Zendesk and Jira, by side.", ["side"]
)
API_RATE_LIMITED = Counter(
    "connector_api_rate_limited_total", "HTTP 429 answers from Zendesk and Jira, by side.", ["side"]
)
TASKS = Counter(
    "connector_tasks_total",
    "Queue task outcomes (complete, error, retrying, ...), by task name.",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "connector_task_duration_seconds",
    "Time from a task starting to completing or failing, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EVENTS_FINISHED = Counter(
    "connector_inbound_events_finished_total",
    "Stored webhook deliveries a worker finished, by source and state (processed, ignored).",
    ["source", "state"],
)
for _source in ("zendesk", "jira"):  # every series exists from the start, at 0
    for _state in ("processed", "ignored"):
        EVENTS_FINISHED.labels(_source, _state)
