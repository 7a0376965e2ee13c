"""Closed tickets refuse updates, so a follow-up ticket carries the reply. Exactly once: the row
is claimed (the one lease) and marked as attempted before the create call, which carries an
`Idempotency-Key` (Zendesk replays the first answer for two hours); an attempted row is checked
first against the closed ticket's follow-ups, looking for the reply tag. So a claim can be taken
over soon after its worker dies: it is held for `Tuning.heartbeat` seconds and renewed before
each create call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from connector.errors import PermanentError, TransientError
from connector.logs import log_event
from connector.store import reply_followups as followups
from connector.store.models import ReplyState
from connector.store.reply_rows import Guard, set_state
from connector.sync.replies.fanout import Tuning, reply_update
from connector.sync.replies.plan import Run
from connector.zendesk.models import MAX_BATCH

if TYPE_CHECKING:
    from connector.sync.ports import HasClock, HasStore, HasZendesk, ZendeskPort

    class FollowupNeeds(HasStore, HasClock, HasZendesk, Protocol):
        """What creating follow-up tickets needs."""


log = logging.getLogger(__name__)


def deliver_followups(
    runtime: FollowupNeeds, run: Run, tuning: Tuning, pulse: Callable[[], None] | None = None
) -> float | None:
    """Create the owed follow-ups; returns a delay to try again after, or None when done (or
    when the owed ones are claimed by another worker: `again_after_claims` says when to look)."""
    deadline = runtime.clock.monotonic() + tuning.slice_seconds
    failures = 0  # in a row
    while runtime.clock.monotonic() < deadline:
        token = followups.claim_followups(
            runtime.db,
            run,
            limit=tuning.followup_batch,
            timeout=timedelta(seconds=tuning.heartbeat),
        )
        if token is None:
            return _again_after_claims(runtime, run, tuning)
        for owed in followups.claimed_followups(runtime.db, token):
            followups.refresh_claim(runtime.db, token)
            if pulse is not None:
                pulse()
            try:
                _one(runtime, run, token, owed)
                failures = 0
            except (TransientError, TimeoutError) as exc:  # TimeoutError: the call budget
                followups.release_followups(runtime.db, token, owed.ticket_id)
                failures += 1
                log_event(
                    log, "replies.followup.retry_later", ticket_id=owed.ticket_id, error=str(exc)
                )
                pause = tuning.backoff.delay(failures, getattr(exc, "retry_after", None))
                if tuning.backoff.exhausted(failures) or pause > tuning.inline_wait:
                    followups.release_followups(runtime.db, token)
                    return pause
                runtime.clock.sleep(pause)
    return 0.0


def _again_after_claims(runtime: FollowupNeeds, run: Run, tuning: Tuning) -> float | None:
    """None when no follow-up is owed; else (another worker holds them) when their claim runs
    out, so a dead worker's follow-ups are taken over then."""
    oldest = followups.oldest_open_claim(runtime.db, run)
    if oldest is None:
        return None
    expires = oldest + timedelta(seconds=tuning.heartbeat)
    return max((expires - runtime.clock.now()).total_seconds(), 0.0) + 0.5


def _one(runtime: FollowupNeeds, run: Run, token: str, owed: followups.OwedFollowup) -> None:
    ticket_id = owed.ticket_id
    if owed.attempted:
        existing = find_followup(runtime.zendesk, ticket_id, run.rendered.tag)
        if existing is not None:
            followups.record_followup(runtime.db, token, ticket_id, existing)
            return
    if not followups.mark_followup_attempted(runtime.db, token, ticket_id):
        log_event(log, "replies.followup.claim_lost", ticket_id=ticket_id)
        return  # another worker took this row over after our claim timed out
    key = f"zdjira-reply-{run.problem_id}-{ticket_id}-{run.outcome}"
    try:
        created = runtime.zendesk.create_followup(
            ticket_id, reply_update(run), requester_id=owed.requester_id, idempotency_key=key
        )
    except PermanentError as exc:
        guard = Guard.followup(token)
        set_state(runtime.db, guard, [ticket_id], ReplyState.FAILED, f"follow-up: {exc}")
        log_event(log, "zendesk.replies.followup_failed", ticket_id=ticket_id, error=str(exc))
        return
    followups.record_followup(runtime.db, token, ticket_id, created.id)
    log_event(
        log,
        "zendesk.replies.followup_created",
        problem_id=run.problem_id,
        ticket_id=ticket_id,
        followup_id=created.id,
    )


def find_followup(zendesk: ZendeskPort, closed_id: int, tag: str) -> int | None:
    """The follow-up of `closed_id` carrying the reply tag, if an earlier attempt created it."""
    followup_ids = zendesk.get_ticket(closed_id).followup_ids
    if not followup_ids:
        return None
    for ticket in zendesk.show_many(followup_ids[-MAX_BATCH:]):
        if tag in ticket.tags:
            return ticket.id
    return None
