"""Closing the loop over the sandboxes: every linked ticket gets exactly one reply per outcome,
checked on the tickets' comments in the Zendesk sandbox (not in the connector's records)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack
from connector.settings import Settings
from connector.store.models import Link, LinkVia, Problem, ProblemState, utcnow
from connector.sync.replies.approval import status
from connector.sync.replies.fanout import Tuning
from connector.sync.replies.service import problems_with_unfinished_replies, run_fanout
from connector.sync.replies.templates import reply_tag
from tests.e2e.conftest import both_jira, stop_checked

FAST = Tuning.from_settings(
    Settings(
        _env_file=None,  # type: ignore[call-arg]
        replies_claim_timeout=3.0,
        replies_poll_min=0.02,
        replies_poll_max=0.3,
        replies_slice_seconds=30,
    )
)


def replies_config(**replies: Any) -> str:
    data = yaml.safe_load(embedded_defaults_text())
    data["replies"] = {**data["replies"], **replies}
    data["impact_debounce_seconds"] = 0
    return str(yaml.safe_dump(data, sort_keys=False))


FAST_ENV = {
    "CONNECTOR_REPLIES_CLAIM_TIMEOUT": "3",
    "CONNECTOR_REPLIES_POLL_MIN": "0.02",
    "CONNECTOR_REPLIES_POLL_MAX": "0.3",
}


@pytest.fixture(autouse=True, scope="module")
def fast_fanout() -> Iterator[None]:
    """Queue-run fan-outs (Tuning from the stack's Settings, read from these environment
    variables) use the same short timeouts as `settle`."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAST_ENV.items():
            patch.setenv(name, value)
        yield


def make_stack(tmp_path: Path, database_url: str | None = None, **kw: Any) -> LocalStack:
    config = kw.pop("config_text", None) or replies_config()
    install = kw.pop("install", False)
    s = LocalStack(tmp_path, database_url=database_url, config_text=config, **kw)
    return s.start(install=install)


@pytest.fixture
def stack(tmp_path: Path, jira_deployment: str) -> Iterator[LocalStack]:
    s = make_stack(tmp_path, jira_deployment=jira_deployment)
    yield s
    stop_checked(s)


def customers(stack: LocalStack, n: int, *, closed: int = 0, prefix: str = "Ada") -> list[int]:
    """n tickets from distinct requesters named `<prefix><i>`; the first `closed` are closed."""
    ids = []
    for i in range(n):
        user = stack.zendesk.create_user(f"{prefix}{i} Tester", f"{prefix.lower()}{i}@example.com")
        ticket = stack.zendesk.agent_create_ticket(
            subject=f"Charged twice {i}",
            comment={"body": "I was charged twice"},
            requester_id=user["id"],
        )
        ids.append(int(ticket["id"]))
    for ticket_id in ids[:closed]:
        stack.zendesk.close_ticket(ticket_id)
    return ids


def problem_with(
    stack: LocalStack,
    ticket_ids: list[int],
    *,
    outcome: str | None = "fixed",
    solution: str | None = "We refunded the second charge.",
    kind: str | None = "fix",
    jira: bool = True,
) -> int:
    key = stack.jira.human_create("FIN", "Double charge") if jira else None
    with stack.rt.db.session() as s:
        problem = Problem(cause_key=f"test:{key or utcnow().isoformat()}", team="billing")
        problem.summary, problem.jira_key = "Double charge", key
        problem.jira_issue_id = stack.jira.issue(key)["id"] if key else None
        s.add(problem)
        s.flush()
        for ticket_id in ticket_ids:
            seen = stack.zendesk.ticket(ticket_id)["status"]
            s.add(
                Link(
                    ticket_id=ticket_id,
                    problem_id=problem.id,
                    via=LinkVia.JIRA_FIELD,
                    ticket_status=seen,
                )
            )
        pid = problem.id
    if outcome is not None:
        resolve(stack, pid, outcome, solution, kind)
    return pid


RESOLUTIONS = {"fixed": "Fixed", "wont_fix": "Won't Do", "duplicate": "Duplicate"}


def resolve(
    stack: LocalStack,
    pid: int,
    outcome: str,
    solution: str | None = "We refunded the second charge.",
    kind: str | None = None,
    **fields: Any,
) -> None:
    """What the mirror writes when the Jira issue enters status category done; the Jira issue
    says the same, so a mirror pass (e.g. a worker's periodic reconcile) agrees."""
    with stack.rt.db.session() as s:
        key = s.get_one(Problem, pid).jira_key
        s.execute(
            update(Problem)
            .where(Problem.id == pid)
            .values(
                state=ProblemState.RESOLVED,
                jira_resolution=RESOLUTIONS.get(outcome, outcome),
                outcome=outcome,
                solution_text=solution,
                solution_kind=kind,
                resolved_at=utcnow(),
                **fields,
            )
        )
    if key is not None and outcome in RESOLUTIONS:
        if solution:
            stack.jira.human_comment(key, f"#customer-reply {solution}")
        stack.jira.human_transition(key, "Done", resolution=RESOLUTIONS[outcome])


def reopen(stack: LocalStack, pid: int) -> None:
    with stack.rt.db.session() as s:
        key = s.get_one(Problem, pid).jira_key
        s.execute(
            update(Problem)
            .where(Problem.id == pid)
            .values(state=ProblemState.OPEN, outcome=None, jira_resolution=None)
        )
    if key is not None:
        stack.jira.human_transition(key, "To Do")


def summaries(stack: LocalStack, pid: int) -> list[str]:
    with stack.rt.db.session() as s:
        key = s.get_one(Problem, pid).jira_key
    assert key is not None
    return [
        c["body"]
        for c in stack.jira.comments(key)
        if c["body"].startswith("Zendesk replies for outcome") or "[zdjira-replies:" in c["body"]
    ]


def settle(stack: LocalStack, pid: int | None = None, tuning: Tuning = FAST) -> None:
    """Run the queue, then the fan-out until nothing is owed (claims wait out their timeout)."""
    if pid is not None:
        stack.rt.scheduler.fanout(pid)
    stack.drain(timeout=60)
    for _ in range(60):
        owed = problems_with_unfinished_replies(stack.rt.db, stack.rt.config)
        if not owed:
            return
        for problem_id in owed:
            result = run_fanout(stack.rt, problem_id, tuning)
            if result.held:
                return
            if result.again_in:
                import time

                time.sleep(min(result.again_in, 1.0))
    raise AssertionError(
        f"replies did not settle: {problems_with_unfinished_replies(stack.rt.db, stack.rt.config)}"
    )


def public(stack: LocalStack, ticket_id: int) -> list[str]:
    """Public comments after the customer's own first one."""
    return [c["body"] for c in stack.zendesk.comments(ticket_id)[1:] if c["public"]]


def notes(stack: LocalStack, ticket_id: int) -> list[str]:
    return [c["body"] for c in stack.zendesk.comments(ticket_id) if not c["public"]]


def followups_of(stack: LocalStack, ticket_id: int) -> list[dict[str, Any]]:
    return [stack.zendesk.ticket(f) for f in stack.zendesk.ticket(ticket_id)["followup_ids"]]


# ---- the tests -------------------------------------------------------------------------------
def test_fixed_reply_lands_once_per_ticket_personalised_with_status_and_tag(
    tmp_path: Path, both_databases: str
) -> None:
    stack = make_stack(tmp_path, both_databases)
    try:
        tickets = customers(stack, 250)
        pid = problem_with(stack, tickets)
        settle(stack, pid)
        settle(stack, pid)  # a repeated trigger changes nothing
        for i, ticket_id in enumerate(tickets):
            [reply] = public(stack, ticket_id)
            assert (
                reply
                == f"Hi Ada{i}, the problem you reported is fixed. We refunded the second charge."
            )
            ticket = stack.zendesk.ticket(ticket_id)
            assert ticket["status"] == "solved"
            assert reply_tag(pid, "fixed") in ticket["tags"]
        update_calls = stack.zendesk.counters.get("PUT /tickets/update_many", 0)
        assert update_calls == 3  # 100 + 100 + 50
    finally:
        stack.stop()


def test_template_variables_are_filled_and_zendesk_placeholders_pass_through(
    tmp_path: Path,
) -> None:
    body = (
        "{{dc.greeting}} {{ticket.requester.first_name}}: ${issue_key} is fixed in "
        "${fix_version} (${due_date}). ${solution} Ticket {{ticket.id}}."
    )
    templates = {"fixed": {"status": "pending", "body": body}, "wont_fix": None, "duplicate": None}
    stack = make_stack(tmp_path, config_text=replies_config(templates=templates))
    try:
        stack.zendesk.set_dynamic_content("greeting", {"en-US": "Hello", "de": "Hallo"})
        [t_en] = customers(stack, 1, prefix="Grace")
        user = stack.zendesk.create_user("Karl Muster", "karl@example.com", locale="de")
        t_de = int(
            stack.zendesk.agent_create_ticket(
                subject="x", comment={"body": "doppelt"}, requester_id=user["id"]
            )["id"]
        )
        pid = problem_with(stack, [t_en, t_de], outcome=None)
        from datetime import date

        resolve(stack, pid, "fixed", fix_version="2.4", due_date=date(2026, 12, 1))
        settle(stack, pid)
        key = stack.jira.issue_keys()[0]
        [en] = public(stack, t_en)
        [de] = public(stack, t_de)
        tail = f"{key} is fixed in 2.4 (2026-12-01). We refunded the second charge."
        assert en == f"Hello Grace0: {tail} Ticket {t_en}."
        assert de == f"Hallo Karl: {tail} Ticket {t_de}."
        assert stack.zendesk.ticket(t_en)["status"] == "pending"
    finally:
        stack.stop()


def test_null_template_and_missing_template_give_an_internal_note_only(stack: LocalStack) -> None:
    tickets = customers(stack, 3)
    pid = problem_with(stack, tickets[:2], outcome="wont_fix")
    settle(stack, pid)
    for ticket_id in tickets[:2]:
        assert public(stack, ticket_id) == []
        [note] = notes(stack, ticket_id)
        assert "No customer reply is configured" in note
        assert "Next step: answer the customer yourself" in note
        ticket = stack.zendesk.ticket(ticket_id)
        assert ticket["status"] != "solved"
        # The tag proves the note, and never claims a reply.
        assert reply_tag(pid, "wont_fix", public=False) in ticket["tags"]
        assert not [t for t in ticket["tags"] if t.startswith("zdjira_reply_")]
    counts = status(stack.rt, pid).counts
    assert (counts["sent"], counts["notes"]) == (0, 2)
    other = problem_with(stack, tickets[2:], outcome="mystery", jira=False)
    settle(stack, other)
    assert public(stack, tickets[2]) == []
    [note] = notes(stack, tickets[2])
    assert "no reply template" in note


def test_closed_tickets_get_one_followup_carrying_the_reply(stack: LocalStack) -> None:
    tickets = customers(stack, 5, closed=2)
    pid = problem_with(stack, tickets)
    settle(stack, pid)
    settle(stack, pid)
    for i, ticket_id in enumerate(tickets[:2]):
        assert public(stack, ticket_id) == []
        [followup] = followups_of(stack, ticket_id)
        assert reply_tag(pid, "fixed") in followup["tags"]
        bodies = [c["body"] for c in stack.zendesk.comments(followup["id"]) if c["public"]]
        assert bodies == [
            f"Hi Ada{i}, the problem you reported is fixed. We refunded the second charge."
        ]
    for ticket_id in tickets[2:]:
        assert len(public(stack, ticket_id)) == 1
    summary = summaries(stack, pid)
    assert len(summary) == 1 and "sent 3, follow-ups 2, skipped 0, failed 0" in summary[0]


@both_jira
def test_the_summary_reads_as_a_sentence_and_an_older_summary_still_counts(
    stack: LocalStack,
) -> None:
    [first] = customers(stack, 1)
    pid = problem_with(stack, [first])
    settle(stack, pid)
    [summary] = summaries(stack, pid)
    assert summary == (
        f"Zendesk replies for outcome 'fixed' of connector problem {pid} are done: "
        "public replies sent 1, follow-ups 0, skipped 0, failed 0."
    )
    # An issue summarised before the key read as a sentence keeps its one summary.
    [second] = customers(stack, 1, prefix="Old")
    old = problem_with(stack, [second])
    with stack.rt.db.session() as s:
        key = s.get_one(Problem, old).jira_key
    assert key is not None
    stack.jira.human_comment(
        key, f"Zendesk internal notes delivered.\n[zdjira-replies:{old}:fixed]"
    )
    settle(stack, old)
    assert len(summaries(stack, old)) == 1


def test_closed_tickets_are_skipped_in_skip_mode(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, config_text=replies_config(closed_tickets="skip"))
    try:
        tickets = customers(stack, 3, closed=1)
        pid = problem_with(stack, tickets)
        settle(stack, pid)
        assert followups_of(stack, tickets[0]) == []
        assert public(stack, tickets[0]) == []
        assert [len(public(stack, t)) for t in tickets[1:]] == [1, 1]
        from connector.sync.replies.approval import status

        result = status(stack.rt, pid)
        assert result.counts["skipped"] == 1 and result.counts["sent"] == 2
        assert "skip" in result.problems[0]["reason"]
    finally:
        stack.stop()
