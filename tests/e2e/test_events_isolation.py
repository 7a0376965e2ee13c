"""One bad ticket in a batch of webhook events fails only its own events, over HTTP with the
real clients: the others are linked at once; the bad one waits for its next attempts and is
linked by itself once the cause is gone; parked past the retry horizon, it is linked after
`connector events retry`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.demo.stack import LocalStack
from connector.ops.events import retry_failed_events
from connector.store.models import EventState, InboundEvent
from tests.e2e.test_linking import cf, links
from tests.waiting import wait_until


def event_states(stack: LocalStack) -> dict[int, EventState]:
    with stack.rt.db.session() as s:
        return {
            int(e.subject_id or 0): e.state
            for e in s.scalars(select(InboundEvent).where(InboundEvent.source == "zendesk"))
        }


def attempts(stack: LocalStack, ticket: int) -> int:
    with stack.rt.db.session() as s:
        event = s.scalars(select(InboundEvent).where(InboundEvent.subject_id == str(ticket))).one()
        return event.attempts


@pytest.mark.parametrize("horizon", ["outlasted", "passed"])
def test_one_bad_ticket_does_not_hold_back_the_rest_of_its_batch(
    stack: LocalStack, horizon: str
) -> None:
    settings = stack.rt.settings
    settings.retry_later_base_seconds, settings.retry_later_max_seconds = 0.1, 0.3
    if horizon == "passed":
        settings.retry_horizon_seconds = 0.2
    adopted = stack.jira.human_create("SHIP", "Parcels stuck in Leipzig hub")
    # Reading that issue fails (Jira answers 500) until the fault is cleared.
    stack.jira.inject_faults(fraction=1.0, paths=[f"GET /rest/api/*/issue/{adopted}"])
    good = [
        stack.zendesk.agent_create_ticket(
            subject=f"Parcel lost {n}", comment={"body": "?"}, tags=["parcel_lost"]
        )["id"]
        for n in range(3)
    ]
    bad = stack.zendesk.agent_create_ticket(
        subject="Where is my parcel",
        comment={"body": "?"},
        custom_fields=cf(stack, jira_issue=adopted),
    )["id"]
    assert stack.zendesk.wait_for_deliveries(10)
    wait_until(lambda: len(event_states(stack)) == 4, 10, "the four events stored")
    assert set(event_states(stack).values()) == {EventState.PENDING}

    # Nothing ran yet (the stack has no consumer): the first task takes all four events as
    # one batch; the bad ticket's event then waits for its next attempts, which the queue runs
    # when they fall due.
    wait_until(
        lambda: (
            stack.run_queue() >= 0
            and (attempts(stack, bad) >= 3 or event_states(stack)[bad] is EventState.FAILED)
        ),
        30,
        "the bad ticket's event to be tried three times, or parked",
    )
    states = event_states(stack)
    assert [states[t] for t in good] == [EventState.PROCESSED] * 3
    linked = links(stack)
    assert bad not in linked
    assert len({linked[t][0] for t in good}) == 1 and all(t in linked for t in good)

    if horizon == "outlasted":  # still retrying: it heals by itself once Jira answers
        assert states[bad] is EventState.PENDING
        stack.jira.clear_faults()
    else:  # failing for longer than the horizon: parked until an admin puts it back
        assert states[bad] is EventState.FAILED
        stack.jira.clear_faults()
        stack.run_queue(include_future=True)
        assert event_states(stack)[bad] is EventState.FAILED  # not retried by itself
        with stack.rt.db.session() as s:
            failed = [e.id for e in s.scalars(select(InboundEvent)) if e.state is EventState.FAILED]
        assert retry_failed_events(stack.rt, failed) == failed
    wait_until(
        lambda: stack.run_queue() >= 0 and event_states(stack)[bad] is EventState.PROCESSED,
        30,
        "the bad ticket's event processed",
    )
    assert links(stack)[bad][0] == adopted
