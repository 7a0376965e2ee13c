"""Deliver one run's reply: claim up to 100 tickets, send them in one `update_many` (comment,
reply tag and status in one update, so the tag proves the reply), poll the jobs several at a
time, record each ticket's result. Claims whose fate is unknown (a crash, a timeout, a lost job)
are settled by reading the tags back; only tickets without the tag are sent again.

The loop keeps at most `max_jobs` jobs in flight (Zendesk allows 30 per account), slows down on
429 and TooManyJobs instead of failing, and gives its worker back after `slice_seconds`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from connector.batching import batched
from connector.errors import AuthError, NotFoundError, PermanentError, TransientError
from connector.logs import log_event
from connector.retry import Backoff, Horizon, call_with_retries
from connector.store import links, reply_runs
from connector.store import reply_rows as rows
from connector.store.models import ReplyState
from connector.store.reply_rows import Guard
from connector.sync.replies.plan import Run
from connector.sync.replies.templates import problem_ticket_note, reply_tag
from connector.zendesk.models import MAX_BATCH, Comment, JobStatus, Ticket, TicketUpdate

if TYPE_CHECKING:
    from connector.settings import Settings
    from connector.store.db import Database
    from connector.sync.ports import Clock, HasClock, HasStore, HasZendesk

    class FanoutNeeds(HasStore, HasClock, HasZendesk, Protocol):
        """What sending a problem's replies needs."""


log = logging.getLogger(__name__)


def _quiet() -> None:
    """No heartbeat (a fan-out run outside the queue, e.g. in a test)."""


CLOSED_MARKERS = ("closed prevents ticket update", "status: closed")


@dataclass(frozen=True)
class Tuning:
    """Knobs of the fan-out (seconds, counts): CONNECTOR_REPLIES_* and CONNECTOR_RETRY_*."""

    max_jobs: int
    claim_timeout: float  # see Settings.replies_claim_timeout
    poll_min: float
    poll_max: float
    slice_seconds: float
    horizon: Horizon  # when a failed ticket is tried again, and when it is parked
    followup_batch: int
    backoff: Backoff
    inline_wait: float  # a longer wait is not slept in the loop: the work goes back to the queue
    heartbeat: float = 30.0  # a fan-out silent this long is resumed; see Settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Tuning:
        return cls(
            max_jobs=settings.replies_max_jobs,
            claim_timeout=settings.replies_claim_timeout,
            poll_min=settings.replies_poll_min,
            poll_max=settings.replies_poll_max,
            slice_seconds=settings.replies_slice_seconds,
            horizon=Horizon.for_replies(settings),
            followup_batch=settings.replies_followup_batch,
            backoff=Backoff.from_settings(settings),
            inline_wait=settings.retry_max_inline_wait_seconds,
            heartbeat=settings.replies_heartbeat_seconds,
        )


@dataclass
class Progress:
    sent_batches: int = 0
    polls: int = 0
    verified: int = 0
    throttled: int = 0
    again_in: float | None = None
    statuses_changed: int = 0  # linked tickets whose status the replies changed
    notes: list[str] = field(default_factory=list)


def reply_update(run: Run) -> TicketUpdate:
    r = run.rendered
    return TicketUpdate(
        status=r.status,
        comment=Comment(body=r.body, public=r.public),
        additional_tags=[r.tag],
    )


class Pulse:
    """The fan-out's heartbeat on its run, written at most every sixth of `Tuning.heartbeat`:
    while it beats, the watchdog task leaves the run alone; once it stops (the worker died),
    the watchdog resumes the run."""

    def __init__(self, runtime: HasStore, clock: Clock, run: Run, tuning: Tuning) -> None:
        self.db, self.clock, self.run = runtime.db, clock, run
        self.every = tuning.heartbeat / 6
        self.last: float | None = None

    def __call__(self) -> None:
        now = self.clock.monotonic()
        if self.last is None or now - self.last >= self.every:
            self.last = now
            reply_runs.beat(self.db, self.run, self.clock.now())

    def stop(self) -> None:
        reply_runs.beat(self.db, self.run, None)


class Fanout:
    def __init__(
        self, runtime: FanoutNeeds, run: Run, tuning: Tuning, pulse: Callable[[], None] = _quiet
    ) -> None:
        self.runtime = runtime
        self.clock = runtime.clock
        self.run = run
        self.tuning = tuning
        self.update = reply_update(run)
        self.cap = max(1, tuning.max_jobs)
        self.interval = tuning.poll_min
        self.backoff_until = 0.0
        self.failures = 0  # in a row; a success resets it
        self.progress = Progress()
        self.timeout = timedelta(seconds=tuning.claim_timeout)
        self.pulse = pulse
        self._problem_update: TicketUpdate | None = None

    # ---- the loop ---------------------------------------------------------------------------
    def deliver(self, still_current: Callable[[], bool] | None = None) -> Progress:
        deadline = self.clock.monotonic() + self.tuning.slice_seconds
        hard_stop = deadline + max(60.0, self.tuning.claim_timeout)
        checked = self.clock.monotonic()
        while True:
            self.pulse()
            now = self.clock.monotonic()
            if still_current is not None and now - checked > 2.0:
                checked = now
                if not still_current():
                    log_event(log, "replies.fanout.superseded", problem_id=self.run.problem_id)
                    return self.progress
            self._settle_stale()
            jobs = rows.active_jobs(self.db, self.run)
            while len(jobs) < self.cap and self.clock.monotonic() >= self.backoff_until:
                if self.clock.monotonic() > deadline:
                    break
                job_id = self._send_next()
                if job_id is None:
                    break
                jobs.add(job_id)
            if jobs:
                if self.clock.monotonic() > hard_stop:
                    self.progress.again_in = self.tuning.poll_max
                    return self.progress
                self.clock.sleep(self.interval)
                self._poll(sorted(jobs))
                continue
            counts = rows.count_states(self.db, self.run)
            if counts[ReplyState.PENDING.value]:
                if self.clock.monotonic() > deadline:
                    self.progress.again_in = 0.0
                    return self.progress
                # Zendesk asked us to wait, or the failed tickets wait for their next attempt.
                blocked = self.backoff_until - self.clock.monotonic()
                waiting = self._until_due() if blocked <= 0 else None
                problem_ticket_left = (
                    counts[ReplyState.PENDING.value] == 1 and self.run.problem_ticket_id is not None
                )
                if blocked <= 0 and waiting is None and problem_ticket_left:
                    # Only the problem ticket is left, behind claims another worker holds or
                    # that wait to be read back: come back when those are settled or stale.
                    waiting = self._until_stale()
                pause = max(blocked, waiting or 0.0, self.tuning.poll_min)
                if pause > self.tuning.inline_wait:  # give the worker back; the queue returns
                    self.progress.again_in = pause
                    return self.progress
                self.clock.sleep(pause)
                continue
            if counts[ReplyState.CLAIMED.value]:
                self.progress.again_in = self._until_stale()
            return self.progress

    # ---- sending ----------------------------------------------------------------------------
    @property
    def db(self) -> Database:
        return self.runtime.db

    def _send_next(self) -> str | None:
        claim = rows.claim_pending(
            self.db, self.run, limit=MAX_BATCH, timeout=self.timeout, now=self.clock.now()
        )
        if claim is None:
            return None
        try:
            update = self._update_of(claim.ticket_ids)
        except (TransientError, TimeoutError, AuthError) as exc:  # reading its requester
            self._release(claim)
            self._back_off(getattr(exc, "retry_after", None), str(exc))
            return None
        except PermanentError as exc:  # the problem ticket is gone
            guard = Guard.claimed(claim.token)
            rows.set_state(self.db, guard, claim.ticket_ids, ReplyState.SKIPPED, str(exc)[:200])
            return None
        try:
            job = self.runtime.zendesk.update_many_same(claim.ticket_ids, update)
        except TransientError as exc:
            self._send_failed(claim, exc)
            return None
        except TimeoutError as exc:  # the shared call budget stayed empty: nothing was sent
            self._release(claim)
            self._back_off(5.0, str(exc))
            return None
        except PermanentError as exc:
            guard = Guard.claimed(claim.token)
            # Credentials refused wait for the fix like an outage; other refusals park.
            curable = isinstance(exc, AuthError)
            self._retry_later(guard, claim.ticket_ids, str(exc), curable=curable)
            log_event(log, "replies.batch.refused", problem_id=self.run.problem_id, error=str(exc))
            return None
        if rows.record_job(self.db, claim, job.id) == 0:
            log_event(log, "replies.claim.lost", job_id=job.id, level=logging.WARNING)
        self.progress.sent_batches += 1
        self.failures = 0
        log_event(
            log,
            "zendesk.replies.batch_sent",
            problem_id=self.run.problem_id,
            outcome=self.run.outcome,
            tickets=len(claim.ticket_ids),
            job_id=job.id,
        )
        return job.id

    def _send_failed(self, claim: rows.Claim, exc: TransientError) -> None:
        self.progress.throttled += 1
        refused = exc.status == 429 or (exc.status == 503 and exc.retry_after is not None)
        if refused:  # Zendesk refused the call: nothing happened, the tickets go back
            self._release(claim)
            if "TooManyJobs" in str(exc):
                self.cap = max(1, min(self.cap, len(rows.active_jobs(self.db, self.run))))
            self._back_off(exc.retry_after, str(exc))
        else:  # a timeout or 5xx may hide an accepted job: the tags will tell
            rows.mark_unknown(self.db, claim, str(exc))
            self._back_off(None, str(exc))

    def _retry_later(self, guard: Guard, ticket_ids: list[int], error: str, curable: bool) -> None:
        """Failed tickets wait for their next attempt, or are parked past the horizon (or after
        `replies_max_attempts` refusals, which retrying will not cure)."""
        if not ticket_ids:
            return
        horizon, now = self.tuning.horizon, self.clock.now()
        attempt = max(rows.most_attempts(self.db, guard, ticket_ids), 1)
        plan = horizon.plan(now, attempt, None, curable=curable)
        parked = rows.retry_later(self.db, guard, ticket_ids, error, plan)
        log_event(
            log,
            "replies.tickets.retry_later",
            level=logging.WARNING,
            problem_id=self.run.problem_id,
            tickets=len(ticket_ids),
            parked=parked,
            error=error[:200],
        )

    def _until_due(self) -> float | None:
        """Seconds until the earliest pending ticket that waits for a later attempt is due."""
        now = self.clock.now()
        due = rows.next_attempt_after(self.db, self.run, now)
        return None if due is None else (due - now).total_seconds()

    def _release(self, claim: rows.Claim) -> None:
        rows.release_claim(self.db, claim)

    def _back_off(self, retry_after: float | None, reason: str) -> float:
        """No call to Zendesk for the policy's delay (or its Retry-After); the delay."""
        self.failures += 1
        pause = self.tuning.backoff.delay(self.failures, retry_after)
        self.backoff_until = max(self.backoff_until, self.clock.monotonic() + pause)
        log_event(
            log,
            "replies.fanout.backoff",
            problem_id=self.run.problem_id,
            seconds=round(pause, 2),
            reason=reason[:200],
        )
        return pause

    # ---- polling ----------------------------------------------------------------------------
    def _poll(self, job_ids: list[str]) -> None:
        finished = 0
        for chunk in batched(job_ids, MAX_BATCH):
            try:
                statuses = self.runtime.zendesk.job_statuses(list(chunk))
            except (TransientError, TimeoutError) as exc:
                pause = self._back_off(getattr(exc, "retry_after", None), str(exc))
                # The next poll waits as long, within the polling range.
                self.interval = min(max(pause, self.tuning.poll_min), self.tuning.poll_max)
                return
            self.progress.polls += 1
            self.failures = 0
            found = {s.id: s for s in statuses}
            for job_id in chunk:
                status = found.get(job_id)
                if status is None or status.finished:
                    finished += 1
                    self._record(job_id, status)
        # Aim at about two finished jobs per poll: fewer calls than one poll per job, and with
        # several jobs queued behind them Zendesk never waits for us.
        factor = {0: 1.6, 1: 1.25, 2: 1.0}.get(finished, 0.8)
        self.interval = min(max(self.interval * factor, self.tuning.poll_min), self.tuning.poll_max)

    def _record(self, job_id: str, status: JobStatus | None) -> None:
        guard = Guard.job(self.run, job_id)
        ticket_ids = rows.tickets_of(self.db, guard)
        if status is None or status.status != "completed" or status.results is None:
            # Lost or failed job: it may have updated some tickets. Read them back.
            self._verify(guard, ticket_ids)
            return
        results = {r.id: r for r in status.results if r.id is not None}
        sent, closed, missing, retry, unknown = [], [], [], [], []
        errors: dict[int, str] = {}
        for ticket_id in ticket_ids:
            result = results.get(ticket_id)
            if result is None:
                unknown.append(ticket_id)
            elif result.success:
                sent.append(ticket_id)
            elif _is_closed(result.details, result.error):
                closed.append(ticket_id)
            elif (result.error or "") == "RecordNotFound":
                missing.append(ticket_id)
            else:
                retry.append(ticket_id)
                errors[ticket_id] = f"{result.error}: {result.details}"
        for ticket_ids, shown_status in self._by_update(sent):
            self._sent(guard, ticket_ids, shown_status)
        self._closed(guard, closed)
        rows.set_state(self.db, guard, missing, ReplyState.SKIPPED, "ticket not found")
        if retry:
            error = next(iter(errors.values()))
            self._retry_later(guard, retry, error, curable=False)  # Zendesk refused the update
        self._verify(guard, unknown)
        log_event(
            log,
            "zendesk.replies.job_done",
            problem_id=self.run.problem_id,
            job_id=job_id,
            sent=len(sent),
            closed=len(closed),
            missing=len(missing),
            retry=len(retry),
        )

    # ---- settling unknown claims by reading the tags back -----------------------------------
    def _settle_stale(self) -> None:
        while claim := rows.claim_stale_unknown(
            self.db, self.run, limit=MAX_BATCH, timeout=self.timeout
        ):
            guard = Guard.claimed(claim.token)
            log_event(
                log,
                "replies.claims.verify",
                problem_id=self.run.problem_id,
                tickets=len(claim.ticket_ids),
            )
            if not self._verify(guard, claim.ticket_ids):
                return

    def _verify(self, guard: Guard, ticket_ids: list[int]) -> bool:
        """Tickets with the tag got the reply; the others go back to pending. False if Zendesk
        could not be read (the claims stay and are read again later)."""
        for chunk in batched(ticket_ids, MAX_BATCH):
            try:
                tickets = call_with_retries(
                    lambda c=chunk: self.runtime.zendesk.show_many(list(c)),  # type: ignore[misc]
                    self.tuning.backoff,
                    attempts=3,
                    max_inline_wait=self.tuning.inline_wait,
                )
            except (TransientError, TimeoutError) as exc:
                self._back_off(getattr(exc, "retry_after", None), str(exc))
                return False
            self.progress.verified += len(chunk)
            self._settle(guard, list(chunk), {t.id: t for t in tickets})
        return True

    def _settle(self, guard: Guard, chunk: list[int], seen: dict[int, Ticket]) -> None:
        def landed(i: int) -> bool:
            return any(tag in seen[i].tags for tag in self._tags_of(i))

        sent = [i for i in chunk if i in seen and landed(i)]
        missing = [i for i in chunk if i not in seen]
        closed = [i for i in chunk if i in seen and not landed(i) and seen[i].status == "closed"]
        again = [i for i in chunk if i in seen and not landed(i) and seen[i].status != "closed"]
        by_status: dict[str, list[int]] = {}
        for ticket_id in sent:
            by_status.setdefault(seen[ticket_id].status, []).append(ticket_id)
        for status, ticket_ids in by_status.items():
            self._sent(guard, ticket_ids, status)
        rows.set_state(self.db, guard, missing, ReplyState.SKIPPED, "ticket not found")
        self._closed(guard, closed)
        error = "not delivered (no reply tag on the ticket)"
        self._retry_later(guard, again, error, curable=True)

    # ---- the problem ticket: its own update ---------------------------------------------------
    def _update_of(self, ticket_ids: list[int]) -> TicketUpdate:
        """The problem ticket is claimed alone and gets its own update; the others share one."""
        if ticket_ids == [self.run.problem_ticket_id]:
            return self._problem_ticket_update()
        return self.update

    def _tags_of(self, ticket_id: int) -> tuple[str, ...]:
        """The tags that prove a ticket got its update. The problem ticket's depends on its
        requester: either tag proves it (no Zendesk read while settling)."""
        if ticket_id == self.run.problem_ticket_id:
            note = reply_tag(self.run.problem_id, self.run.outcome, public=False)
            return (self.run.rendered.tag, note)
        return (self.run.rendered.tag,)

    def _by_update(self, ticket_ids: list[int]) -> list[tuple[list[int], str | None]]:
        """Tickets grouped by the status their update set."""
        pid = self.run.problem_ticket_id
        others = [i for i in ticket_ids if i != pid]
        groups = [(others, self.update.status)] if others else []
        if pid in ticket_ids:  # its status as this worker sent it (unknown: not recorded)
            sent = self._problem_update
            groups.append(([pid], sent.status if sent is not None else None))
        return groups

    def _problem_ticket_update(self) -> TicketUpdate:
        """An end user who reported the problem gets the reply; an agent's internal problem
        ticket gets an internal note. Either is solved only when every incident has its
        answer, since solving a problem ticket makes Zendesk copy its comment onto its unsolved
        incidents (a second reply for a customer whose own reply is still to come)."""
        if self._problem_update is not None:
            return self._problem_update
        assert self.run.problem_ticket_id is not None
        zendesk, r = self.runtime.zendesk, self.run.rendered
        ticket = zendesk.get_ticket(self.run.problem_ticket_id)
        role = None
        if ticket.requester_id:
            try:
                role = zendesk.get_user(ticket.requester_id).role
            except NotFoundError:  # the requester is gone: an internal note, not a reply
                role = None
        if role in (None, "agent", "admin") or not r.public:
            tag = reply_tag(self.run.problem_id, self.run.outcome, public=False)
            note = problem_ticket_note(self.run.issue_key, self.run.outcome, public=r.public)
            update = TicketUpdate(comment=Comment(body=note, public=False), additional_tags=[tag])
        else:
            answered = rows.others_unanswered(self.db, self.run) == 0
            update = TicketUpdate(
                status=r.status if answered else None,
                comment=Comment(body=r.body, public=True),
                additional_tags=[r.tag],
            )
        self._problem_update = update
        return update

    def _sent(self, guard: Guard, ticket_ids: list[int], status: str | None) -> None:
        """The replies landed; the tickets' status is what the reply set (the connector's own
        change sends no webhook it reads, so the links learn it here)."""
        rows.set_state(self.db, guard, ticket_ids, ReplyState.SENT)
        if status:
            self.progress.statuses_changed += links.set_status(
                self.db, self.run.problem_id, ticket_ids, status
            )

    def _closed(self, guard: Guard, ticket_ids: list[int]) -> None:
        if not self.run.rendered.public:
            reason = "closed ticket: no internal note possible"
            rows.set_state(self.db, guard, ticket_ids, ReplyState.SKIPPED, reason)
        elif self.run.closed_policy == "skip":
            reason = "closed ticket (replies.closed_tickets: skip)"
            rows.set_state(self.db, guard, ticket_ids, ReplyState.SKIPPED, reason)
        else:
            rows.set_state(
                self.db, guard, ticket_ids, ReplyState.FOLLOWUP, "closed ticket", release=True
            )

    def _until_stale(self) -> float:
        oldest = rows.oldest_unknown_claim(self.db, self.run)
        if oldest is None:
            return self.tuning.poll_max
        age = (self.clock.now() - oldest).total_seconds()
        return max(self.tuning.claim_timeout - age, 0.0) + 0.5


def _is_closed(details: object, error: str | None) -> bool:
    text = f"{error or ''} {details or ''}".lower()
    return any(marker in text for marker in CLOSED_MARKERS)
