"""The one retry policy: transient errors are retried with jittered exponential backoff,
honouring Retry-After. `Backoff` holds the numbers (from Settings); the fan-out, the follow-ups,
`call_with_retries` and the queue tasks' retries all ask it how long to wait.

A wait longer than `max_inline_wait` is not slept in place: the error goes up so the queue task
can be rescheduled instead of holding a worker.

Stored work (inbound events, reply rows) that failed waits in the database instead: `Horizon`
says when it is tried again and when it stops trying (it is parked as failed for an admin's
`retry`), so an outage of hours heals by itself once it ends.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connector.errors import TransientError

if TYPE_CHECKING:
    from connector.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Wait before try n+1 (n = 1, 2, ...): between half and all of min(cap, base * 2**(n-1)),
    at random ("equal jitter": workers that failed together do not retry together, and none
    retries at once), or exactly the server's Retry-After; `attempts` tries in all."""

    base: float
    cap: float
    attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(settings.retry_base_seconds, settings.retry_max_seconds, settings.retry_attempts)

    @classmethod
    def for_tasks(cls, settings: Settings) -> Backoff:
        """A queue task that raised: Huey retries it after a fixed delay (no exponent)."""
        delay = settings.task_retry_delay_seconds
        return cls(delay, delay, settings.task_retries + 1)

    def ceiling(self, attempt: int) -> float:
        return min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 64))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempt`-th failure in a row."""
        if retry_after is not None:
            return max(float(retry_after), 0.0)
        ceiling = self.ceiling(attempt)
        return random.uniform(ceiling / 2, ceiling)

    def exhausted(self, attempt: int) -> bool:
        """True once `attempt` tries have failed: stop and let the queue try later."""
        return attempt >= self.attempts

    def huey_options(self) -> dict[str, Any]:
        """Huey's task retries: the tries after the first, each after the base delay."""
        return {"retries": max(self.attempts - 1, 0), "retry_delay": self.base}


@dataclass(frozen=True)
class Horizon:
    """How stored work waits out an outage: after its n-th failure in a row it is tried again
    after `backoff.delay(n)` (at most the backoff's cap, so recovery is prompt once the outage
    ends), or after the server's Retry-After when that is longer; it is parked as failed once
    its failures began `seconds` ago (the horizon), or, for an error retrying cannot cure (a
    `PermanentError`: Zendesk refused this ticket's update), after `permanent_attempts`."""

    backoff: Backoff
    seconds: float
    permanent_attempts: int

    @classmethod
    def for_events(cls, settings: Settings) -> Horizon:
        return cls._from(settings, settings.event_max_attempts)

    @classmethod
    def for_replies(cls, settings: Settings) -> Horizon:
        return cls._from(settings, settings.replies_max_attempts)

    @classmethod
    def _from(cls, settings: Settings, permanent_attempts: int) -> Horizon:
        backoff = Backoff(settings.retry_later_base_seconds, settings.retry_later_max_seconds, 0)
        return cls(backoff, settings.retry_horizon_seconds, permanent_attempts)

    def plan(
        self, now: datetime, attempt: int, retry_after: float | None, *, curable: bool
    ) -> RetryPlan:
        """What the `attempt`-th failure in a row means: when to try again, and when to park
        the work instead (`curable` False: an error retrying cannot cure)."""
        wait = self.backoff.delay(attempt)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        return RetryPlan(
            now=now,
            retry_at=now + timedelta(seconds=wait),
            park_failing_since=now - timedelta(seconds=self.seconds),
            park_after_attempts=None if curable else self.permanent_attempts,
        )


@dataclass(frozen=True)
class RetryPlan:
    """One failure of stored work: it waits until `retry_at`, unless it has been failing since
    `park_failing_since` or earlier (the horizon) or, when `park_after_attempts` is set, has had
    that many attempts; then it is parked as failed (the store applies it: `store.parking`)."""

    now: datetime
    retry_at: datetime
    park_failing_since: datetime
    park_after_attempts: int | None


def _wait(backoff: Backoff) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        return backoff.delay(state.attempt_number, retry_after)

    return wait


def _retryable(max_inline_wait: float) -> Callable[[BaseException], bool]:
    def check(error: BaseException) -> bool:
        if not isinstance(error, TransientError):
            return False
        return error.retry_after is None or error.retry_after <= max_inline_wait

    return check


def call_with_retries(
    fn: Callable[[], T],
    backoff: Backoff,
    *,
    attempts: int | None = None,
    max_inline_wait: float = 30.0,
) -> T:
    """`fn()`, retried on transient errors per `backoff` (at most `attempts` tries if given)."""
    retrying = Retrying(
        retry=retry_if_exception(_retryable(max_inline_wait)),
        wait=_wait(backoff),
        stop=stop_after_attempt(attempts or backoff.attempts),
        reraise=True,
    )
    return retrying(fn)
