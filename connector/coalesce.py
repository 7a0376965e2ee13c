"""Coalescing that adapts to load: work asked for on an idle connector starts at once, a storm is
still batched.

The rule (a leaky bucket of one run per window): run now if no run started within the last
window; otherwise one run at the end of the window, and requests made while that run is still
ahead of us are covered by it (it takes everything pending when it starts). A request made after
a run started, even while it is still running, gets a run of its own, so nothing is left behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, overload


@overload
def hold_until(last_start: float | None, window: float, now: float) -> float | None: ...
@overload
def hold_until(
    last_start: datetime | None, window: timedelta, now: datetime
) -> datetime | None: ...
def hold_until(last_start: Any, window: Any, now: Any) -> Any:
    """When the next run may start: None for at once (no run in the last window), else the end
    of the window that began with the last run."""
    if last_start is None or now >= last_start + window:
        return None
    return last_start + window


class Coalescer:
    """The rule for one stream of requests (one process's inbound events), with its own clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_start: float | None = None  # the latest run, started or planned
        self._lock = threading.Lock()

    def request(self, window: float) -> float | None:
        """Ask for a run: seconds from now to start it (0.0: at once), or None when a planned
        run that has not started yet covers this request."""
        with self._lock:
            now = self._clock()
            if self._last_start is not None and self._last_start > now:
                return None
            start = hold_until(self._last_start, window, now)
            self._last_start = now if start is None else start
            return 0.0 if start is None else start - now
