"""Waiting for a state, never for time: tests poll a predicate until it holds or a deadline
passes, so they pass on machines faster and slower than the one they were written on."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, *, every: float = 0.05
) -> None:
    """Return once `predicate()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
