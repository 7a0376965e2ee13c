"""Exactly once under crashes: real `connector worker` processes on PostgreSQL + Redis, killed
with SIGKILL at random moments during a 2,000-ticket fan-out and restarted; in the end every
ticket carries exactly one reply (counted on the sandbox's comments)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from connector.demo.stack import LocalStack
from connector.store.models import Link, LinkVia
from connector.sync.replies.approval import status
from connector.sync.replies.templates import reply_tag
from tests.e2e.test_replies import (
    make_stack,
    problem_with,
    public,
    resolve,
    summaries,
)
from tests.waiting import wait_until

TICKETS = 2_000
KILLS = 6


@pytest.fixture
def crash_stack(tmp_path: Path, postgres_url: str, redis_url: str) -> Iterator[LocalStack]:
    # About 0.25 s per 100-ticket job: jobs are queued and in flight when a worker dies.
    s = make_stack(
        tmp_path,
        postgres_url,
        redis_url=redis_url,
        queue_name=f"replies-crash-{os.getpid()}",
        zendesk={"job_seconds_per_ticket": 0.0015},
    )
    s.rt.huey.flush()
    yield s
    s.rt.huey.flush()
    s.stop()


def worker_env(stack: LocalStack) -> dict[str, str]:
    return stack.process_env(
        **{
            "CONNECTOR_LOG_LEVEL": "WARNING",
            # Above the HTTP timeout plus the longest a job waits in the sandbox's queue (4 jobs of
            # about 0.45 s), as the 600 s default is in production.
            "CONNECTOR_HTTP_TIMEOUT_SECONDS": "2",
            "CONNECTOR_REPLIES_MAX_JOBS": "4",
            "CONNECTOR_REPLIES_CLAIM_TIMEOUT": "5",
            "CONNECTOR_REPLIES_POLL_MIN": "0.05",
            "CONNECTOR_REPLIES_POLL_MAX": "0.5",
            "CONNECTOR_REPLIES_SLICE_SECONDS": "5",
        }
    )


def spawn(env: dict[str, str], tmp: Path, n: int) -> subprocess.Popen[bytes]:
    log = (tmp / f"worker-{n}.log").open("wb")
    command = [sys.executable, "-m", "connector", "worker", "--threads", "2"]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def test_sigkilled_workers_end_with_exactly_one_reply_per_ticket(
    crash_stack: LocalStack, tmp_path: Path
) -> None:
    stack = crash_stack
    users = [stack.zendesk.create_user(f"Lin{i} Doe", f"lin{i}@example.com") for i in range(20)]
    tickets = [
        int(
            stack.zendesk.agent_create_ticket(
                subject=f"Refund {i}",
                comment={"body": "Where is my refund?"},
                requester_id=users[i % 20]["id"],
            )["id"]
        )
        for i in range(TICKETS)
    ]
    pid = problem_with(stack, [], outcome=None)
    with stack.rt.db.session() as s:
        s.execute(
            insert(Link),
            [{"ticket_id": t, "problem_id": pid, "via": LinkVia.RULE} for t in tickets],
        )
    resolve(stack, pid, "fixed")
    stack.rt.scheduler.fanout(pid)

    # The sandbox holds every update_many job back and lets two through per round, so the
    # fan-out cannot finish before the six kills, however fast the machine (20 jobs at least).
    jobs = stack.zendesk.jobs
    jobs.paused = True
    env, rng = worker_env(stack), random.Random(7)
    workers = [spawn(env, tmp_path, n) for n in range(3)]
    started, kills = time.monotonic(), 0
    try:
        # Kill after each two completed jobs, at a random point of what the workers do then
        # (claiming, submitting, polling held jobs, recording results); restart at once.
        for kills in range(1, KILLS + 1):
            target = jobs.completed_count() + 2
            jobs.release(2)
            wait_until(lambda t=target: jobs.completed_count() >= t, 60, f"round {kills} jobs")
            time.sleep(rng.uniform(0.0, 0.5))  # where in the workers' cycle the kill lands
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            workers[victim] = spawn(env, tmp_path, 10 + kills)
            stack.rt.scheduler.fanout(pid)  # what the periodic reconcile does after a restart
        hit = status(stack.rt, pid).counts
        print(f"kills done at {time.monotonic() - started:.1f}s", hit)
        jobs.paused = False

        def converged() -> bool:
            if status(stack.rt, pid).summary_posted:
                return True
            stack.rt.scheduler.fanout(pid)
            return False

        wait_until(converged, 90, "the fan-out to converge", every=0.5)
    finally:
        jobs.paused = False
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
    elapsed = time.monotonic() - started
    print(f"converged at {elapsed:.1f}s")
    tag = reply_tag(pid, "fixed")
    replies_per_ticket = [len(public(stack, t)) for t in tickets]
    assert replies_per_ticket == [1] * TICKETS, (
        f"duplicates={sum(n > 1 for n in replies_per_ticket)} "
        f"missing={sum(n == 0 for n in replies_per_ticket)} after {elapsed:.1f}s"
    )
    assert all(tag in stack.zendesk.ticket(t)["tags"] for t in tickets)
    assert len(summaries(stack, pid)) == 1
    assert status(stack.rt, pid).counts["sent"] == TICKETS
    assert kills == KILLS
    assert hit["sent"] < TICKETS, "every kill landed while the fan-out was under way"
