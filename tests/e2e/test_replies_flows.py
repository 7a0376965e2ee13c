"""Reply flows over the sandboxes: faults, approval from the CLI, late links through the real
linking path, reopen, workaround then fix. Replies are counted on the sandbox's tickets."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from connector.cli_replies import replies
from connector.config import parse_config
from connector.demo.stack import EMAIL, TOKEN, LocalStack
from connector.store.models import Link, Problem
from connector.sync.replies.approval import preview, status
from tests.e2e.conftest import both_jira, stop_checked
from tests.e2e.test_replies import (
    customers,
    fast_fanout,  # noqa: F401  (autouse: short claim timeouts for queued fan-outs)
    followups_of,
    make_stack,
    problem_with,
    public,
    reopen,
    replies_config,
    resolve,
    settle,
    summaries,
)

TEMPLATES = {
    "fixed": {"status": "solved", "body": "Hi {{ticket.requester.first_name}}, fixed: ${solution}"},
    "workaround": {
        "status": "pending",
        "body": "Hi {{ticket.requester.first_name}}, meanwhile: ${solution}",
    },
    "wont_fix": {"status": "solved", "body": "We will not change this. ${solution}"},
    "duplicate": None,
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = make_stack(
        tmp_path_factory.mktemp("replies"),
        config_text=replies_config(templates=TEMPLATES),
        settings={"http_timeout_seconds": 1.0},
    )
    yield s
    s.stop()


@pytest.fixture
def stack(shared: LocalStack) -> Iterator[LocalStack]:
    """The shared stack with this test's `replies` config (see `configure`)."""
    yield shared
    configure(shared)
    shared.zendesk.clear_faults()


def configure(stack: LocalStack, **replies: Any) -> None:
    stack.rt.config = parse_config(replies_config(templates=TEMPLATES, **replies), "test")


def test_twenty_percent_faults_still_end_with_exactly_one_reply_each(stack: LocalStack) -> None:
    tickets = customers(stack, 600, closed=20, prefix="Fault")
    pid = problem_with(stack, tickets)
    stop = threading.Event()

    def faults() -> None:
        # The first two calls of each kind fail for sure (a state, not a race: the fan-out needs
        # far more than six calls), then 20% of calls fail, rotating 429, 500 and timeouts.
        for kind in ("429", "500", "timeout"):
            target = stack.zendesk.faults.injected + 2
            stack.zendesk.inject_faults(count=2, kind=kind, hang_seconds=1.2)
            while stack.zendesk.faults.injected < target:
                if stop.wait(0.01):
                    return
        for kind in itertools.cycle(("429", "500", "timeout")):
            stack.zendesk.inject_faults(fraction=0.2, kind=kind, hang_seconds=1.2)
            if stop.wait(0.3):
                return

    thread = threading.Thread(target=faults, daemon=True)
    stack.zendesk.jobs.seconds_per_ticket = 0.001  # jobs take a while: several polls each
    thread.start()
    try:
        settle(stack, pid)
    finally:
        stop.set()
        thread.join()
        injected = stack.zendesk.faults.injected
        stack.zendesk.clear_faults()
        stack.zendesk.jobs.seconds_per_ticket = 0.0
    assert injected >= 6
    assert [len(public(stack, t)) for t in tickets[20:]] == [1] * 580
    assert [len(followups_of(stack, t)) for t in tickets[:20]] == [1] * 20
    assert status(stack.rt, pid).counts["sent"] == 580
    assert len(summaries(stack, pid)) == 1


def test_reopen_with_the_same_outcome_does_not_reply_again_a_new_outcome_does(
    stack: LocalStack,
) -> None:
    tickets = customers(stack, 4, prefix="Re")
    pid = problem_with(stack, tickets)
    settle(stack, pid)
    reopen(stack, pid)
    resolve(stack, pid, "fixed")
    settle(stack, pid)
    assert [len(public(stack, t)) for t in tickets] == [1] * 4
    reopen(stack, pid)
    resolve(stack, pid, "wont_fix", solution="It works as designed.")
    settle(stack, pid)
    for ticket_id in tickets:
        assert public(stack, ticket_id)[1] == "We will not change this. It works as designed."
        assert len(public(stack, ticket_id)) == 2
    assert len(summaries(stack, pid)) == 2  # one per outcome


def test_workaround_then_fix_gives_two_different_replies(stack: LocalStack) -> None:
    configure(stack, send_workaround=True)
    tickets = customers(stack, 3, prefix="Wa")
    pid = problem_with(stack, tickets, outcome=None, jira=False)
    with stack.rt.db.session() as s:
        s.execute(
            update(Problem)
            .where(Problem.id == pid)
            .values(solution_text="Pay by card for now.", solution_kind="workaround")
        )
    settle(stack, pid)
    for i, ticket_id in enumerate(tickets):
        assert public(stack, ticket_id) == [f"Hi Wa{i}, meanwhile: Pay by card for now."]
        assert stack.zendesk.ticket(ticket_id)["status"] == "pending"
    resolve(stack, pid, "fixed", solution="Invoices are correct again.")
    settle(stack, pid)
    for i, ticket_id in enumerate(tickets):
        assert public(stack, ticket_id) == [
            f"Hi Wa{i}, meanwhile: Pay by card for now.",
            f"Hi Wa{i}, fixed: Invoices are correct again.",
        ]
        assert stack.zendesk.ticket(ticket_id)["status"] == "solved"


def test_workaround_is_not_sent_unless_configured(stack: LocalStack) -> None:
    [ticket] = customers(stack, 1, prefix="Nw")
    pid = problem_with(stack, [ticket], outcome=None, jira=False)
    with stack.rt.db.session() as s:
        s.execute(
            update(Problem)
            .where(Problem.id == pid)
            .values(solution_text="Pay by card.", solution_kind="workaround")
        )
    settle(stack, pid)
    assert public(stack, ticket) == []


def cli(stack: LocalStack, *args: str) -> str:
    s = stack.rt.settings
    env = {
        "CONNECTOR_ZENDESK_URL": str(s.zendesk_url),
        "CONNECTOR_ZENDESK_EMAIL": EMAIL,
        "CONNECTOR_ZENDESK_API_TOKEN": TOKEN,
        "CONNECTOR_DATABASE_URL": s.database_url,
        "CONNECTOR_QUEUE_PATH": s.queue_path,
        "CONNECTOR_QUEUE_NAME": s.queue_name,
        "CONNECTOR_CONFIG": str(stack.config_path),
    }
    result = CliRunner().invoke(replies, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_approval_preview_and_status_from_the_cli(stack: LocalStack, tmp_path: Path) -> None:
    stack.config_path.write_text(
        replies_config(templates=TEMPLATES, require_approval=True), "utf-8"
    )
    configure(stack, require_approval=True)
    tickets = customers(stack, 5, closed=1, prefix="Ap")
    pid = problem_with(stack, tickets)
    settle(stack, pid)
    assert [public(stack, t) for t in tickets] == [[]] * 5
    key = preview(stack.rt, pid).issue_key
    assert key is not None

    shown = cli(stack, "preview", key)
    assert "Hi {{ticket.requester.first_name}}, fixed: We refunded the second charge." in shown
    assert "waiting for approval" in shown
    assert preview(stack.rt, key).counts == {
        "reply": 4,
        "followup": 1,
        "note": 0,  # no problem ticket of an agent's here
        "skip": 0,
        "already_sent": 0,
        "in_progress": 0,
        "failed": 0,
    }
    assert "held: waiting for approval" in cli(stack, "status", str(pid))

    approved = cli(stack, "approve", key)
    assert "approved" in approved
    settle(stack)
    for i, ticket_id in enumerate(tickets[1:], start=1):
        assert public(stack, ticket_id) == [f"Hi Ap{i}, fixed: We refunded the second charge."]
    shown = cli(stack, "status", key)
    assert "Jira summary: posted" in shown
    result = status(stack.rt, key)
    assert (result.counts["sent"], result.counts["followup"], result.counts["pending"]) == (4, 1, 0)
    assert preview(stack.rt, key).counts["already_sent"] == 5
    stack.config_path.write_text(replies_config(templates=TEMPLATES), "utf-8")


def test_missing_solution_text_is_held_until_approved(stack: LocalStack) -> None:
    tickets = customers(stack, 2, prefix="Ns")
    pid = problem_with(stack, tickets, solution=None)
    settle(stack, pid)
    assert [public(stack, t) for t in tickets] == [[], []]
    held = preview(stack.rt, pid)
    assert held.held_reason is not None and "solution" in held.held_reason
    with stack.rt.db.session() as s:  # the agreed text arrives: no approval needed any more
        s.execute(update(Problem).where(Problem.id == pid).values(solution_text="Refunded."))
    settle(stack, pid)
    assert [public(stack, t) for t in tickets] == [
        ["Hi Ns0, fixed: Refunded."],
        ["Hi Ns1, fixed: Refunded."],
    ]


@both_jira
def test_tickets_linked_after_resolution_are_answered_through_the_real_linking_path(
    tmp_path: Path, jira_deployment: str
) -> None:
    stack = make_stack(tmp_path, install=True, jira_deployment=jira_deployment)
    try:
        key = stack.jira.human_create("FIN", "Double charge")
        field = stack.fields.jira_issue

        def agent_links(name: str) -> int:
            user = stack.zendesk.create_user(f"{name} Linked", f"{name.lower()}@example.com")
            ticket = stack.zendesk.agent_create_ticket(
                subject="Charged twice",
                comment={"body": "help"},
                requester_id=user["id"],
                custom_fields=[{"id": field, "value": key}],
            )
            stack.drain()
            return int(ticket["id"])

        first = agent_links("Early")
        with stack.rt.db.session() as s:
            pid = s.get_one(Link, first).problem_id
        resolve(stack, pid, "fixed")
        settle(stack, pid)
        assert public(stack, first) == [
            "Hi Early, the problem you reported is fixed. We refunded the second charge."
        ]
        late = agent_links("Late")
        with stack.rt.db.session() as s:
            assert s.get_one(Link, late).problem_id == pid
        stack.rt.scheduler.fanout(pid)  # what linking calls for a resolved problem
        settle(stack)
        assert public(stack, late) == [
            "Hi Late, the problem you reported is fixed. We refunded the second charge."
        ]
        assert len(public(stack, first)) == 1
    finally:
        stop_checked(stack)
