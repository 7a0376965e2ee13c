"""Time, as the sync core sees it: the wall clock (aware UTC, for what is stored and compared
with Zendesk and Jira), a monotonic clock (for deadlines and intervals) and sleeping. The
composition root gives the core the system clock; tests may give it one they move by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
