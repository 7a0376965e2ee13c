"""Fakes Zendesk rate limiting (account-wide requests per window, the Update Ticket endpoint's
per-minute limit) and injects faults (500, 429, a hanging request) for resilience tests.

Rate limits use fixed windows, like Zendesk's per-minute counters: a 429 carries `Retry-After`
(seconds to the window's end). Every answer carries `X-Rate-Limit`/`X-Rate-Limit-Remaining` and
the newer `ratelimit-limit`/`ratelimit-remaining`/`ratelimit-reset`. Without a configured limit
nothing is refused and the headers report Zendesk Enterprise's 700.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

NOMINAL_LIMIT = 700


class FixedWindow:
    """Requests per window; `limit=None` counts but never refuses."""

    def __init__(self, limit: int | None, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._used = 0

    def reset(self) -> None:
        with self._lock:
            self._start, self._used = time.monotonic(), 0

    def take(self) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until the window resets)."""
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                self._start, self._used = now, 0
            reset_in = max(1, math.ceil(self.window - (now - self._start)))
            limit = self.limit if self.limit is not None else NOMINAL_LIMIT
            if self.limit is not None and self._used >= self.limit:
                return False, 0, reset_in
            self._used += 1
            return True, max(0, limit - self._used), reset_in


@dataclass
class FaultPlan:
    kind: str
    count: int | None
    fraction: float | None
    paths: tuple[str, ...] | None
    hang_seconds: float


class FaultInjector:
    """Fail the next `count` matching calls, or a `fraction` of them, with `kind`."""

    KINDS = ("500", "429", "503", "timeout")

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._plan: FaultPlan | None = None
        self._random = random.Random(seed)
        self.injected = 0

    def arm(
        self,
        count: int | None = None,
        fraction: float | None = None,
        kind: str = "500",
        paths: list[str] | tuple[str, ...] | None = None,
        hang_seconds: float = 15.0,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}")
        if (count is None) == (fraction is None):
            raise ValueError("give exactly one of count or fraction")
        with self._lock:
            frozen = tuple(paths) if paths else None
            self._plan = FaultPlan(kind, count, fraction, frozen, hang_seconds)

    def clear(self) -> None:
        with self._lock:
            self._plan, self.injected = None, 0

    def take(self, path: str) -> FaultPlan | None:
        """The fault to inject into this call, if any (consumes one of `count`)."""
        with self._lock:
            plan = self._plan
            if plan is None or (plan.paths and not any(p in path for p in plan.paths)):
                return None
            if plan.count is not None:
                if plan.count <= 0:
                    return None
                plan.count -= 1
            elif self._random.random() >= (plan.fraction or 0.0):
                return None
            self.injected += 1
            return plan
