"""The task queue on SQLite and on Redis: tasks survive until a consumer runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from connector.bootstrap import WorkerContext as Runtime
from connector.config import load_config
from connector.demo.stack import huey_now
from connector.queue import build_huey, queue_depth
from connector.settings import Settings
from connector.store.migrate import upgrade
from connector.store.models import EventState, InboundEvent


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    extra: dict[str, str] = {}
    if request.param == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_url")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'connector.db'}",
        queue_path=str(tmp_path / "queue.db"),
        queue_name=f"test-{uuid.uuid4().hex[:8]}",
        **extra,
    )


@pytest.fixture
def queue_runtime(queue_settings: Settings) -> Runtime:
    upgrade(queue_settings.database_url)
    runtime = Runtime(queue_settings, load_config())
    yield runtime
    runtime.huey.flush()


def store_event(runtime: Runtime, event_type: str = "unknown.type") -> None:
    with runtime.db.session() as s:
        s.add(
            InboundEvent(
                source="test",  # no handler: recorded as ignored
                delivery_id=uuid.uuid4().hex,
                content_hash=uuid.uuid4().hex,
                event_type=event_type,
                payload={"ticket_id": 1},
            )
        )


def event_states(runtime: Runtime) -> list[EventState]:
    from sqlalchemy import select

    with runtime.db.session() as s:
        return [e.state for e in s.scalars(select(InboundEvent))]


def test_enqueued_tasks_persist_until_consumed(queue_runtime: Runtime) -> None:
    tasks = queue_runtime.tasks
    store_event(queue_runtime)
    tasks["process_events"]()
    tasks["process_events"]()
    assert queue_depth(queue_runtime.huey) == 2
    # A new process (a new Huey on the same storage) sees the same queued work.
    assert queue_depth(build_huey(queue_runtime.settings)) == 2
    huey = queue_runtime.huey
    huey.execute(huey.dequeue())
    assert event_states(queue_runtime) == [EventState.IGNORED]  # no handler for that type
    while queue_depth(huey):
        huey.execute(huey.dequeue())
    assert queue_depth(huey) == 0


def test_an_idle_connector_processes_at_once_and_a_burst_waits_for_one_batch(
    queue_settings: Settings,
) -> None:
    upgrade(queue_settings.database_url)
    runtime = Runtime(
        queue_settings.model_copy(update={"event_coalesce_seconds": 60}), load_config()
    )
    huey = runtime.huey
    try:
        for _ in range(3):  # a burst: the first is processed at once, the rest in one batch
            store_event(runtime)
            runtime.scheduler.process_events()
        first, planned = huey.dequeue(), huey.dequeue()
        assert huey.dequeue() is None
        assert first.eta is None
        assert planned.eta is not None and planned.eta > huey_now(huey) + timedelta(seconds=30)
        huey.execute(first)
        assert event_states(runtime) == [EventState.IGNORED] * 3
        store_event(runtime)  # after that run: the planned batch takes it
        runtime.scheduler.process_events()
        assert huey.dequeue() is None
        huey.execute(planned, timestamp=planned.eta)
        assert event_states(runtime) == [EventState.IGNORED] * 4
    finally:
        huey.flush()


def test_reconcile_is_registered_as_periodic(queue_runtime: Runtime) -> None:
    periodic = [t.name for t in queue_runtime.huey._registry.periodic_tasks]
    assert "reconcile" in periodic


def test_worker_process_consumes_and_stops_cleanly_on_sigterm(
    queue_runtime: Runtime, tmp_path: Path
) -> None:
    s = queue_runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(
        CONNECTOR_DATABASE_URL=s.database_url,
        CONNECTOR_QUEUE_PATH=s.queue_path,
        CONNECTOR_QUEUE_NAME=s.queue_name,
        **({"CONNECTOR_REDIS_URL": s.redis_url} if s.redis_url else {}),
    )
    store_event(queue_runtime)
    queue_runtime.tasks["process_events"]()
    worker = subprocess.Popen(
        [sys.executable, "-m", "connector", "worker", "--threads", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while event_states(queue_runtime) != [EventState.IGNORED] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert event_states(queue_runtime) == [EventState.IGNORED]
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output
    assert "Shutting down gracefully" in output
