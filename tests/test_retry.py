"""The one retry policy: transient errors retried honouring Retry-After, others not."""

from __future__ import annotations

import time

import pytest

from connector.errors import PermanentError, TransientError
from connector.retry import call_with_retries


def flaky(failures: list[Exception]) -> tuple[list[float], object]:
    seen: list[float] = []

    def fn() -> str:
        seen.append(time.monotonic())
        if failures:
            raise failures.pop(0)
        return "ok"

    return seen, fn


def test_retry_after_is_honoured() -> None:
    seen, fn = flaky([TransientError("429", retry_after=0.3)])
    assert call_with_retries(fn) == "ok"  # type: ignore[arg-type]
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.3


def test_permanent_errors_are_not_retried() -> None:
    seen, fn = flaky([PermanentError("422")])
    with pytest.raises(PermanentError):
        call_with_retries(fn)  # type: ignore[arg-type]
    assert len(seen) == 1


def test_long_retry_after_goes_up_to_the_queue_instead_of_sleeping() -> None:
    seen, fn = flaky([TransientError("429", retry_after=600)])
    with pytest.raises(TransientError):
        call_with_retries(fn, max_inline_wait=30)  # type: ignore[arg-type]
    assert len(seen) == 1


def test_gives_up_after_the_attempts() -> None:
    seen, fn = flaky([TransientError("500", retry_after=0) for _ in range(5)])
    with pytest.raises(TransientError):
        call_with_retries(fn, attempts=3)  # type: ignore[arg-type]
    assert len(seen) == 3
