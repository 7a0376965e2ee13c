"""One outgoing-call budget per Zendesk account and per Jira site, shared by every worker.

Backed by Redis when configured (all machines share it), in memory otherwise (one process).
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute, storage, strategies


class CallBudget:
    def __init__(self, name: str, per_minute: int, storage_uri: str = "memory://") -> None:
        self.name = name
        self.item = RateLimitItemPerMinute(per_minute)
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def acquire(self, max_wait: float = 120.0) -> float:
        """Take one call from the budget, sleeping until one is free; returns the seconds waited."""
        waited = 0.0
        while not self._limiter.hit(self.item, self.name):
            reset_at, _remaining = self._limiter.get_window_stats(self.item, self.name)
            pause = min(max(reset_at - time.time(), 0.05), 1.0)
            if waited + pause > max_wait:
                raise TimeoutError(f"call budget {self.name} exhausted for {max_wait:.0f}s")
            time.sleep(pause)
            waited += pause
        return waited


def budget_storage_uri(redis_url: str | None) -> str:
    if redis_url:
        return "redis+" + redis_url if redis_url.startswith("unix://") else redis_url
    return "memory://"
