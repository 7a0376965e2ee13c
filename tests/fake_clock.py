"""A clock a test moves by hand (the sync core reads time only through its clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from connector.clock import SystemClock


class FakeClock(SystemClock):
    """Wall-clock time stands still until `advance`; monotonic time and sleeping are real."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
