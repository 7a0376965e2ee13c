"""The scale-out proof: PostgreSQL and Redis, two web processes (gunicorn) and four worker
processes; 1,000 tickets over 10 causes arriving with duplicate deliveries. Exactly 10 Jira
issues, every ticket linked to the right one, every customer one reply, no 5xx."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select

from connector.demo.stack import LocalStack
from connector.store.models import EventState, InboundEvent, Link, Problem, ProblemState
from connector.sync.replies.approval import status
from tests.e2e.conftest import config_with
from tests.waiting import wait_until

CAUSES = 10
TICKETS = 1000
TEAMS = ("billing", "docs", "product", "shipping")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scale_config() -> str:
    rules = [
        {"team": TEAMS[n % len(TEAMS)], "cause": f"Cause {n}", "when": {"tags_any": [f"cause_{n}"]}}
        for n in range(CAUSES)
    ]
    return config_with(
        rules=rules,
        impact_debounce_seconds=5,
        mirror_debounce_seconds=0,
        jira={"solution_field": "customfield_10050", "solution_kind_field": "customfield_10051"},
    )


def test_scale_out_keeps_every_guarantee(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    port = free_port()
    stack = LocalStack(
        tmp_path,
        database_url=postgres_url,
        redis_url=redis_url,
        queue_name=f"scale-{uuid.uuid4().hex[:8]}",
        config_text=scale_config(),
        zendesk={"job_seconds_per_ticket": 0.001},
    ).start(install=False)
    stack.rt.settings.public_url = f"http://127.0.0.1:{port}"  # type: ignore[assignment]
    stack.install()
    env = stack.process_env(
        CONNECTOR_EVENT_BATCH_SIZE="50",
        CONNECTOR_EVENT_COALESCE_SECONDS="0.5",
        CONNECTOR_WORKER_THREADS="2",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "connector", "web", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=(logs / "web.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    ]
    procs += [
        subprocess.Popen(
            [sys.executable, "-m", "connector", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=(logs / f"worker{n}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for n in range(4)
    ]
    try:
        wait_until(lambda: _up(port), 60, "the web tier")
        stack.zendesk.webhook_knobs(duplicate=True)
        orgs = [stack.zendesk.create_organization(f"Customer {n}")["id"] for n in range(20)]

        def create(n: int) -> int:
            ticket = stack.zendesk.agent_create_ticket(
                subject=f"Problem report {n}",
                comment={"body": "Something is wrong"},
                tags=[f"cause_{n % CAUSES}"],
                organization_id=orgs[n % len(orgs)],
            )
            return int(ticket["id"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            tickets = list(pool.map(create, range(TICKETS)))
        cause_of = {t: n % CAUSES for n, t in enumerate(tickets)}

        def linked_and_confirmed() -> bool:
            with stack.rt.db.session() as s:
                pending = s.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.state == EventState.PENDING)
                )
                confirmed = s.scalar(
                    select(func.count()).select_from(Link).where(Link.confirmed.is_(True))
                )
            return pending == 0 and confirmed == TICKETS

        wait_until(linked_and_confirmed, 240, "every ticket linked and confirmed")
        with stack.rt.db.session() as s:
            problems = {p.id: p.cause_key for p in s.scalars(select(Problem))}
            keys = {p.id: p.jira_key for p in s.scalars(select(Problem))}
            owner = dict(s.execute(select(Link.ticket_id, Link.problem_id)).all())
        assert len(problems) == CAUSES
        assert len(stack.jira.issue_keys()) == CAUSES
        for ticket, cause in cause_of.items():
            assert problems[owner[ticket]].endswith(f"cause {cause}")

        for key in keys.values():
            stack.jira.human_update(key, customfield_10050="It is fixed in today's release.")
            stack.jira.human_transition(key, "Done", resolution="Fixed")

        def all_replied() -> bool:
            with stack.rt.db.session() as s:
                resolved = s.scalar(
                    select(func.count())
                    .select_from(Problem)
                    .where(Problem.state == ProblemState.RESOLVED)
                )
            if resolved != CAUSES:
                return False
            return all(_public_replies(stack, t) >= 1 for t in tickets[-5:])

        wait_until(all_replied, 240, "the replies")

        def all_settled() -> bool:
            # Every fan-out recorded as sent with its summary posted, and no update_many job
            # queued or working in Zendesk: no duplicate can still be on its way.
            done = all(status(stack.rt, pid).summary_posted for pid in problems)
            return done and stack.zendesk.wait_for_jobs(0)

        wait_until(all_settled, 120, "every fan-out to settle", every=0.5)
        counts = [_public_replies(stack, t) for t in tickets]
        assert counts.count(1) == TICKETS, {c: counts.count(c) for c in set(counts)}
        codes = [a["status_code"] for d in stack.zendesk.deliveries for a in d["attempts"]]
        codes += [
            a.get("status_code") for d in stack.jira.deliveries for a in d.get("attempts", [])
        ]
        assert not [c for c in codes if c is not None and c >= 500]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        stack.rt.huey.flush()
        stack.stop()


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _public_replies(stack: LocalStack, ticket_id: int) -> int:
    admin = stack.zendesk.admin_user_id
    return len(
        [c for c in stack.zendesk.comments(ticket_id) if c["public"] and c["author_id"] == admin]
    )
