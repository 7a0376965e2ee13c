"""`GET /metrics`: database gauges (shared by the scrapes of a few seconds), webhook, task, API
and finished-event counters. What a scrape costs: tests/test_metrics_scrape_cost.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ops_fixtures import ops_runtime, seed
from prometheus_client.parser import text_string_to_metric_families

from connector.bootstrap import WorkerContext as Runtime
from connector.demo.stack import LocalStack
from connector.errors import TransientError
from connector.fields import team_option
from connector.ops import metrics
from connector.ops.metrics import instrument_huey
from connector.store.models import Problem
from connector.webhook_app import create_app

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = ops_runtime(database_url, str(tmp_path / "queue.db"))
    yield runtime
    runtime.close()


def test_store_gauges_are_read_from_the_database(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "CACHE_SECONDS", 0.0)  # each scrape reads again
    seed(rt)
    client = create_app(runtime=rt).test_client()
    response = client.get("/metrics")  # no admin token needed: Prometheus scrapes it
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    found = samples(response.get_data(as_text=True))
    assert value(found, "connector_store_up") == 1
    assert value(found, "connector_queue_depth") == 0
    assert value(found, "connector_problems", state="open") == 3
    assert value(found, "connector_problems", state="resolved") == 1
    assert value(found, "connector_replies", state="sent") == 2
    assert value(found, "connector_replies", state="failed") == 1
    assert value(found, "connector_replies", state="pending") == 0  # every state is exported
    assert value(found, "connector_inbound_events", source="zendesk", state="failed") == 1
    # processed and ignored events are counted where a worker finishes them, not here
    assert ("connector_inbound_events", (("source", "jira"), ("state", "processed"))) not in found
    assert value(found, "connector_last_delivery_timestamp_seconds", source="jira") > 0

    with rt.db.session() as s:
        s.add(Problem(cause_key="new", team="docs", summary="new"))
    rt.huey.enqueue(rt.tasks["write_impact"].s(1))
    again = samples(client.get("/metrics").get_data(as_text=True))
    assert value(again, "connector_problems", state="open") == 4
    assert value(again, "connector_queue_depth") == 1


def test_a_broken_database_reports_store_down_not_an_error(tmp_path: Path) -> None:
    runtime = ops_runtime(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "q.db"))
    try:
        client = create_app(runtime=runtime).test_client()
        (tmp_path / "db.sqlite").unlink()
        runtime.db.dispose()
        (tmp_path / "db.sqlite").mkdir()  # not a database any more
        response = client.get("/metrics")
        assert response.status_code == 200
        assert value(samples(response.get_data(as_text=True)), "connector_store_up") == 0
    finally:
        runtime.close()


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    monkeypatch.setattr(metrics, "CACHE_SECONDS", 0.0)  # the gauges after the work, not before
    s = LocalStack(tmp_path).start()
    instrument_huey(s.rt.huey)
    instrument_huey(s.rt.huey)  # idempotent: counts once
    yield s
    s.stop()


def scrape(stack: LocalStack) -> Samples:
    url = str(stack.rt.settings.public_url).rstrip("/") + "/metrics"
    return samples(requests.get(url, timeout=10).text)


def test_webhooks_tasks_and_api_calls_over_the_stack(stack: LocalStack) -> None:
    before = scrape(stack)
    team = [{"id": stack.fields.owning_team, "value": team_option("billing")}]
    stack.zendesk.agent_create_ticket(
        subject="Double charge", comment={"body": "x"}, type="problem", custom_fields=team
    )
    stack.drain()
    public = str(stack.rt.settings.public_url).rstrip("/")
    requests.post(f"{public}/webhooks/zendesk", data=b"{}", timeout=10)  # unsigned: rejected
    stack.zendesk.inject_faults(count=1, kind="429", paths=["/webhooks"])
    with pytest.raises(TransientError):
        stack.rt.zendesk.list_webhooks()
    after = scrape(stack)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("connector_webhooks_total", source="zendesk", outcome="accepted") >= 1
    assert delta("connector_webhooks_total", source="zendesk", outcome="rejected_signature") == 1
    assert delta("connector_tasks_total", task="process_events", outcome="complete") >= 1
    assert delta("connector_tasks_total", task="process_events", outcome="error") == 0
    assert delta("connector_task_duration_seconds_count", task="process_events") >= 1
    assert delta("connector_api_calls_total", side="zendesk") >= 2
    assert delta("connector_api_calls_total", side="jira") >= 1  # the issue was created
    assert delta("connector_api_rate_limited_total", side="zendesk") == 1
    assert delta("connector_api_rate_limited_total", side="jira") == 0
    assert value(after, "connector_problems", state="open") == 1
