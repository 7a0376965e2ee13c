"""Fakes Jira Cloud's rate limiting (429 with `Retry-After` and `X-RateLimit-*` headers) and
the failures a real site shows now and then (500, 503, 429, slow answers), on request."""

from __future__ import annotations

import fnmatch
import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

FAULT_KINDS = ("500", "503", "429", "timeout")


class RateLimiter:
    """A fixed window of `limit` requests per `window` seconds, shared by all callers."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._start, self._count = time.monotonic(), 0

    def configure(self, limit: int | None, window: float | None = None) -> None:
        self.limit = limit
        self.window = window if window is not None else self.window
        self.reset()

    def check(self) -> dict[str, str] | None:
        """Count one request; return 429 headers when it is over the limit, else None."""
        if not self.limit:
            return None
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                self._start, self._count = now, 0
            self._count += 1
            if self._count <= self.limit:
                return None
            left = self.window - (now - self._start)
        reset_at = datetime.now(UTC).timestamp() + left
        return {
            "Retry-After": str(max(1, math.ceil(left))),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": datetime.fromtimestamp(reset_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "RateLimit-Reason": "jira-burst-based",
        }


@dataclass
class Fault:
    kind: str
    count: int | None  # fail the next N matching requests
    fraction: float  # or fail this share of them
    paths: tuple[str, ...] | None  # fnmatch patterns on "METHOD /path" or "/path"
    delay: float  # for "timeout": how long the answer is held back


class Faults:
    """Injected failures; the first matching fault decides."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.injected = 0

    def add(
        self,
        kind: str = "500",
        count: int | None = None,
        fraction: float | None = None,
        paths: list[str] | tuple[str, ...] | None = None,
        delay: float = 11.0,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
        if count is None and fraction is None:
            count = 1
        fault = Fault(kind, count, fraction or 0.0, tuple(paths) if paths else None, delay)
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.injected = 0

    def pick(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.paths and not any(
                    fnmatch.fnmatch(path, p) or fnmatch.fnmatch(f"{method} {path}", p)
                    for p in fault.paths
                ):
                    continue
                if fault.count is not None:
                    if fault.count <= 0:
                        continue
                    fault.count -= 1
                elif self._random.random() >= fault.fraction:
                    continue
                self.injected += 1
                return fault
            return None
