"""The one retry policy: transient errors are retried with backoff, honouring Retry-After.

A wait longer than `max_inline_wait` is not slept in place: the error goes up so the queue task
can be rescheduled instead of holding a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connector.errors import TransientError

T = TypeVar("T")

_backoff = wait_random_exponential(multiplier=0.5, max=20)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TransientError) and error.retry_after is not None:
        return error.retry_after
    return float(_backoff(state))


def _retryable(max_inline_wait: float) -> Callable[[BaseException], bool]:
    def check(error: BaseException) -> bool:
        if not isinstance(error, TransientError):
            return False
        return error.retry_after is None or error.retry_after <= max_inline_wait

    return check


def call_with_retries(
    fn: Callable[[], T], *, attempts: int = 5, max_inline_wait: float = 30.0
) -> T:
    retrying = Retrying(
        retry=retry_if_exception(_retryable(max_inline_wait)),
        wait=_wait,
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
    return retrying(fn)
