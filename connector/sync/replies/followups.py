"""Closed tickets refuse updates, so a follow-up ticket carries the reply. Exactly once: the row
is claimed (compare-and-set) and marked as attempted before the create call, which carries an
`Idempotency-Key` (Zendesk replays the first answer for two hours); an attempted row is checked
first against the closed ticket's follow-ups, looking for the reply tag.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from connector.errors import PermanentError, TransientError
from connector.logs import log_event
from connector.store.models import Link, Reply, ReplyState, utcnow
from connector.sync.replies import rows
from connector.sync.replies.fanout import Tuning, reply_update
from connector.sync.replies.plan import Run

if TYPE_CHECKING:
    from connector.sync.ports import Services

log = logging.getLogger(__name__)
CLAIM = 20


def deliver_followups(runtime: Services, run: Run, tuning: Tuning) -> float | None:
    """Create the owed follow-ups; returns a delay to try again after, or None when done."""
    deadline = time.monotonic() + tuning.slice_seconds
    failures = 0
    while time.monotonic() < deadline:
        token = _claim(runtime, run, timedelta(seconds=tuning.claim_timeout))
        if token is None:
            return None
        for ticket_id, attempted, requester_id in _claimed(runtime, token):
            try:
                _one(runtime, run, token, ticket_id, attempted, requester_id)
                failures = 0
            except TransientError as exc:
                _release(runtime, token, ticket_id)
                failures += 1
                log_event(log, "replies.followup.retry_later", ticket_id=ticket_id, error=str(exc))
                pause = exc.retry_after if exc.retry_after is not None else 0.25 * 2**failures
                if failures >= 5 or pause > 5:
                    _release(runtime, token)
                    return pause
                time.sleep(pause)
    return 0.0


def _one(
    runtime: Services,
    run: Run,
    token: str,
    ticket_id: int,
    attempted: bool,
    requester_id: int | None,
) -> None:
    guard = [
        Reply.batch_id == token,
        Reply.state == ReplyState.FOLLOWUP,
        Reply.ticket_id == ticket_id,
    ]
    if attempted:
        existing = find_followup(runtime, ticket_id, run.rendered.tag)
        if existing is not None:
            _done(runtime, guard, existing)
            return
    _mark_attempted(runtime, guard)
    key = f"zdjira-reply-{run.problem_id}-{ticket_id}-{run.outcome}"
    try:
        created = runtime.zendesk.create_followup(
            ticket_id, reply_update(run), requester_id=requester_id, idempotency_key=key
        )
    except PermanentError as exc:
        rows.set_state(runtime, guard, [ticket_id], ReplyState.FAILED, f"follow-up: {exc}")
        log_event(log, "zendesk.replies.followup_failed", ticket_id=ticket_id, error=str(exc))
        return
    _done(runtime, guard, created.id)
    log_event(
        log,
        "zendesk.replies.followup_created",
        problem_id=run.problem_id,
        ticket_id=ticket_id,
        followup_id=created.id,
    )


def find_followup(runtime: Services, closed_id: int, tag: str) -> int | None:
    """The follow-up of `closed_id` carrying the reply tag, if an earlier attempt created it."""
    followups = runtime.zendesk.get_ticket(closed_id).followup_ids
    if not followups:
        return None
    for ticket in runtime.zendesk.show_many(followups[-100:]):
        if tag in ticket.tags:
            return ticket.id
    return None


def _claim(runtime: Services, run: Run, timeout: timedelta) -> str | None:
    token, now = uuid.uuid4().hex, utcnow()
    free = (Reply.batch_id.is_(None)) | (Reply.claimed_at < now - timeout)
    owed = [
        *rows.of_run(run),
        Reply.state == ReplyState.FOLLOWUP,
        Reply.followup_ticket_id.is_(None),
    ]
    wanted = select(Reply.id).where(*owed, free).limit(CLAIM).with_for_update(skip_locked=True)
    with runtime.db.session() as session:
        ids = list(session.scalars(wanted))
        if not ids:
            return None
        result = session.execute(
            update(Reply)
            .where(Reply.id.in_(ids), *owed, free)
            .values(batch_id=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return token if result.rowcount else None  # type: ignore[attr-defined]


def _claimed(runtime: Services, token: str) -> list[tuple[int, bool, int | None]]:
    with runtime.db.session() as session:
        found = session.execute(
            select(Reply.ticket_id, Reply.job_id, Link.requester_id)
            .outerjoin(Link, Link.ticket_id == Reply.ticket_id)
            .where(Reply.batch_id == token, Reply.state == ReplyState.FOLLOWUP)
            .order_by(Reply.ticket_id)
        ).all()
    return [(t, job == rows.FOLLOWUP_MARK, r) for t, job, r in found]


def _mark_attempted(runtime: Services, guard: list[Any]) -> None:
    with runtime.db.session() as session:
        session.execute(
            update(Reply)
            .where(*guard)
            .values(job_id=rows.FOLLOWUP_MARK, attempts=Reply.attempts + 1)
            .execution_options(synchronize_session=False)
        )


def _done(runtime: Services, guard: list[Any], followup_id: int) -> None:
    with runtime.db.session() as session:
        session.execute(
            update(Reply)
            .where(*guard)
            .values(followup_ticket_id=followup_id, error=None, batch_id=None)
            .execution_options(synchronize_session=False)
        )


def _release(runtime: Services, token: str, ticket_id: int | None = None) -> None:
    one = [Reply.ticket_id == ticket_id] if ticket_id is not None else []
    with runtime.db.session() as session:
        session.execute(
            update(Reply)
            .where(Reply.batch_id == token, Reply.followup_ticket_id.is_(None), *one)
            .values(batch_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
