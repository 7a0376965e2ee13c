"""Outages heal by themselves: a real `connector worker` process against the sandboxes, with
Zendesk failing for longer than the old attempt limits allowed (8 for events, 5 for replies).

Reads answer 429 while customers write in: every event waits (backoff, Retry-After) instead of
failing, and once Zendesk answers again every ticket is linked. Then the issue resolves while
`update_many` answers 500: the replies wait too, and go out once the outage ends, one per
customer. Nobody runs `retry`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector.demo.stack import LocalStack
from connector.store.models import EventState, InboundEvent, Link, Problem, Reply, ReplyState
from connector.sync.replies.approval import status
from tests.e2e.conftest import config_with
from tests.waiting import wait_until

TICKETS = 12
OLD_EVENT_LIMIT, OLD_REPLY_LIMIT = 8, 5  # attempts after which work used to fail for good


@pytest.fixture
def outage_stack(tmp_path: Path) -> Iterator[tuple[LocalStack, subprocess.Popen[bytes]]]:
    stack = LocalStack(
        tmp_path,
        config_text=config_with(
            impact_debounce_seconds=0,
            mirror_debounce_seconds=0,
            jira={"solution_field": "customfield_10050"},
        ),
        zendesk={"job_seconds_per_ticket": 0.001},
    ).start()
    env = stack.process_env(
        CONNECTOR_RETRY_ATTEMPTS="1",  # no retry in place: every failure goes to the store
        CONNECTOR_RETRY_BASE_SECONDS="0.2",
        CONNECTOR_RETRY_MAX_SECONDS="1",
        CONNECTOR_RETRY_LATER_BASE_SECONDS="0.5",
        CONNECTOR_RETRY_LATER_MAX_SECONDS="2",
        CONNECTOR_REPLIES_CLAIM_TIMEOUT="1",  # a 500 may hide a job: read the tags back soon
        CONNECTOR_EVENT_COALESCE_SECONDS="0.2",
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "connector", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield stack, worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        stack.rt.huey.flush()
        stack.stop()


def _most_event_attempts(stack: LocalStack) -> int:
    with stack.rt.db.session() as s:
        return int(s.scalar(select(func.max(InboundEvent.attempts))) or 0)


def _event_states(stack: LocalStack) -> dict[EventState, int]:
    with stack.rt.db.session() as s:
        rows = s.execute(select(InboundEvent.state, func.count()).group_by(InboundEvent.state))
        return {EventState(state): n for state, n in rows}


def _linked(stack: LocalStack, tickets: list[int]) -> bool:
    with stack.rt.db.session() as s:
        found = s.scalar(select(func.count()).select_from(Link).where(Link.ticket_id.in_(tickets)))
    return found == len(tickets) and _event_states(stack).get(EventState.PENDING, 0) == 0


def _reply_rows(stack: LocalStack) -> list[Reply]:
    with stack.rt.db.session() as s:
        return list(s.scalars(select(Reply)))


def _public_replies(stack: LocalStack, ticket_id: int) -> int:
    admin = stack.zendesk.admin_user_id
    return len(
        [c for c in stack.zendesk.comments(ticket_id) if c["public"] and c["author_id"] == admin]
    )


def test_a_zendesk_outage_ends_with_every_ticket_linked_and_every_reply_sent(
    outage_stack: tuple[LocalStack, subprocess.Popen[bytes]],
) -> None:
    stack, worker = outage_stack
    # Outage 1: every ticket read is refused (429, Retry-After 1 s).
    stack.zendesk.inject_faults(fraction=1.0, kind="429", paths=["/tickets/show_many"])
    tickets = [
        stack.zendesk.agent_create_ticket(
            subject=f"Parcel lost {n}", comment={"body": "Where is it?"}, tags=["parcel_lost"]
        )["id"]
        for n in range(TICKETS)
    ]
    wait_until(
        lambda: _most_event_attempts(stack) > OLD_EVENT_LIMIT,
        120,
        "the events to outlive the old attempt limit",
        every=0.5,
    )
    assert EventState.FAILED not in _event_states(stack)  # waiting, not failed
    assert worker.poll() is None

    stack.zendesk.clear_faults()
    wait_until(lambda: _linked(stack, tickets), 60, "every ticket linked after the outage")
    assert _event_states(stack).get(EventState.FAILED, 0) == 0
    with stack.rt.db.session() as s:
        [(problem_id, key)] = s.execute(select(Problem.id, Problem.jira_key)).all()

    # Outage 2: the issue resolves while every reply update fails (500).
    stack.zendesk.inject_faults(fraction=1.0, kind="500", paths=["/tickets/update_many"])
    stack.jira.human_update(key, customfield_10050="The parcels were found and are on the way.")
    stack.jira.human_transition(key, "Done", resolution="Fixed")
    wait_until(
        lambda: (
            (rows := _reply_rows(stack))
            and len(rows) == TICKETS
            and min(r.attempts for r in rows) > OLD_REPLY_LIMIT
        ),
        120,
        "the replies to outlive the old attempt limit",
        every=0.5,
    )
    assert not any(r.state is ReplyState.FAILED for r in _reply_rows(stack))
    assert all(_public_replies(stack, t) == 0 for t in tickets)

    stack.zendesk.clear_faults()

    def all_sent() -> bool:
        done = all(r.state is ReplyState.SENT for r in _reply_rows(stack))
        return (
            done and status(stack.rt, problem_id).summary_posted and stack.zendesk.wait_for_jobs(0)
        )

    wait_until(all_sent, 60, "every reply sent after the outage", every=0.5)
    assert [_public_replies(stack, t) for t in tickets] == [1] * TICKETS
    assert worker.poll() is None
