"""One computation at a time, its result shared by every caller for a few seconds.

`/metrics` answers anyone, and Prometheus servers (or anyone else) may scrape it in parallel:
within `ttl` seconds every caller gets the same result; when it is older, one caller computes
the next one while the others keep getting the previous result (up to `max_age` seconds old),
so parallel scrapes never add queries. Only when there is no usable result do callers wait,
at most `wait` seconds, for the one being computed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """No usable result, and the one being computed did not come within the wait."""


@dataclass(frozen=True)
class _Kept(Generic[T]):
    value: T
    at: float


class SharedResult(Generic[T]):
    def __init__(
        self,
        compute: Callable[[], T],
        *,
        ttl: float,
        max_age: float,
        wait: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute, self._clock = compute, clock
        self.ttl, self.max_age, self.wait = ttl, max_age, wait
        self._kept: _Kept[T] | None = None
        self._running = False
        self._changed = threading.Condition()

    def get(self) -> T:
        with self._changed:
            deadline = time.monotonic() + self.wait  # real time, whatever `clock` says
            while True:
                kept, age = self._kept, self._age()
                if kept is not None and age < self.ttl:
                    return kept.value
                if not self._running:
                    self._running = True
                    break
                if kept is not None and age < self.max_age:
                    return kept.value  # the next one is being computed
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Busy(f"no result within {self.wait:g} s")
                self._changed.wait(left)
        try:
            value = self._compute()
            with self._changed:
                self._kept = _Kept(value, self._clock())
            return value
        finally:
            with self._changed:
                self._running = False
                self._changed.notify_all()

    def _age(self) -> float:
        return float("inf") if self._kept is None else self._clock() - self._kept.at
