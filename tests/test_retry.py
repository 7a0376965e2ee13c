"""The one retry policy: transient errors retried honouring Retry-After, others not."""

from __future__ import annotations

import random
import time

import pytest

from connector.errors import PermanentError, TransientError
from connector.retry import Backoff, call_with_retries
from connector.settings import Settings

POLICY = Backoff(base=0.01, cap=0.05, attempts=5)


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
    assert call_with_retries(fn, POLICY) == "ok"  # type: ignore[arg-type]
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.3


def test_permanent_errors_are_not_retried() -> None:
    seen, fn = flaky([PermanentError("422")])
    with pytest.raises(PermanentError):
        call_with_retries(fn, POLICY)  # type: ignore[arg-type]
    assert len(seen) == 1


def test_long_retry_after_goes_up_to_the_queue_instead_of_sleeping() -> None:
    seen, fn = flaky([TransientError("429", retry_after=600)])
    with pytest.raises(TransientError):
        call_with_retries(fn, POLICY, max_inline_wait=30)  # type: ignore[arg-type]
    assert len(seen) == 1


def test_gives_up_after_the_attempts() -> None:
    seen, fn = flaky([TransientError("500", retry_after=0) for _ in range(5)])
    with pytest.raises(TransientError):
        call_with_retries(fn, POLICY, attempts=3)  # type: ignore[arg-type]
    assert len(seen) == 3


def test_gives_up_after_the_policys_attempts() -> None:
    seen, fn = flaky([TransientError("500") for _ in range(10)])
    with pytest.raises(TransientError):
        call_with_retries(fn, Backoff(base=0.001, cap=0.001, attempts=4))  # type: ignore[arg-type]
    assert len(seen) == 4


def test_delay_is_jittered_between_half_and_all_of_an_exponential_ceiling() -> None:
    policy = Backoff(base=0.5, cap=10.0, attempts=5)
    random.seed(3)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 10.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # it reaches up to the ceiling
        assert len(set(delays)) > 100  # and is spread: workers do not retry in step
    assert policy.ceiling(10_000) == 10.0  # a long outage neither overflows nor exceeds the cap


def test_retry_after_wins_over_the_backoff() -> None:
    policy = Backoff(base=0.5, cap=10.0, attempts=5)
    assert policy.delay(1, retry_after=42) == 42.0
    assert policy.delay(9, retry_after=0) == 0.0
    assert not policy.exhausted(4) and policy.exhausted(5)


def test_policy_from_settings_and_task_retries() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        retry_base_seconds=0.2,
        retry_max_seconds=3,
        retry_attempts=7,
        task_retries=8,
        task_retry_delay_seconds=5,
    )
    assert Backoff.from_settings(settings) == Backoff(base=0.2, cap=3.0, attempts=7)
    assert Backoff.for_tasks(settings).huey_options() == {"retries": 8, "retry_delay": 5.0}


def test_policy_defaults_keep_todays_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RETRY_BASE_SECONDS", "RETRY_MAX_SECONDS", "RETRY_ATTEMPTS", "TASK_RETRIES"):
        monkeypatch.delenv(f"CONNECTOR_{name}", raising=False)
    monkeypatch.delenv("CONNECTOR_TASK_RETRY_DELAY_SECONDS", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert Backoff.from_settings(settings) == Backoff(base=0.5, cap=10.0, attempts=5)
    assert Backoff.for_tasks(settings).huey_options() == {"retries": 8, "retry_delay": 5.0}
