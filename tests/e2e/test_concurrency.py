"""Exactly one Jira issue per cause when many tickets of a new cause arrive at once and are
processed by several worker processes on PostgreSQL (a unique constraint and a row claim in
the database, not luck)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from connector.demo.stack import LocalStack
from connector.store.models import EventState, InboundEvent, Link, Problem
from tests.e2e.conftest import config_with


def test_twenty_new_tickets_of_one_cause_on_two_workers_create_one_issue(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    stack = LocalStack(
        tmp_path,
        database_url=postgres_url,
        redis_url=redis_url,
        queue_name=f"conc-{uuid.uuid4().hex[:8]}",
        config_text=config_with(impact_debounce_seconds=0),
        settings={"event_batch_size": 2},
    ).start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        tickets = [
            stack.zendesk.agent_create_ticket(
                subject=f"Parcel {n} lost", comment={"body": "?"}, tags=["parcel_lost"]
            )["id"]
            for n in range(20)
        ]
        assert stack.zendesk.wait_for_deliveries(30)
        with stack.rt.db.session() as s:
            assert s.scalar(select(func.count()).select_from(InboundEvent)) == 20
        env = stack.process_env(CONNECTOR_EVENT_BATCH_SIZE="2", CONNECTOR_WORKER_THREADS="4")
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "connector", "worker"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(3)
        ]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with stack.rt.db.session() as s:
                pending = s.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.state == EventState.PENDING)
                )
                linked = s.scalar(select(func.count()).select_from(Link))
                confirmed = s.scalar(select(func.count()).select_from(Link).where(Link.confirmed))
            if pending == 0 and linked == 20 and confirmed == 20:
                break
            time.sleep(0.5)
        with stack.rt.db.session() as s:
            problems = s.scalars(select(Problem)).all()
            assert len(problems) == 1
            problem = problems[0]
            assert problem.jira_key is not None
            owners = set(s.scalars(select(Link.problem_id).where(Link.ticket_id.in_(tickets))))
        assert owners == {problem.id}
        assert [k for k in stack.jira.issue_keys() if k.startswith("SHIP-")] == [problem.jira_key]
        assert stack.jira.counters.get("POST /issue", 0) == 1
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        stack.rt.huey.flush()
        stack.stop()
