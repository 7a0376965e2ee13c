"""The coalescing rule: idle work starts at once, a burst gets one run per window, and every
request is taken by a run that starts after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from connector.coalesce import Coalescer, hold_until

WINDOW = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def simulate(arrivals: list[float], window: float = WINDOW) -> tuple[list[float], list[float]]:
    """Feed requests at the given times; returns the run starts and, per request, the start of
    the first run that takes it (a run takes every request made before it starts)."""
    clock = Clock()
    coalescer = Coalescer(clock)
    runs: list[float] = []
    for at in arrivals:
        clock.now = at
        delay = coalescer.request(window)
        if delay is not None:
            runs.append(at + delay)
    runs.sort()
    taken_by = [next(start for start in runs if start >= at) for at in arrivals]
    return runs, taken_by


def test_a_request_on_an_idle_connector_runs_at_once() -> None:
    clock = Clock()
    coalescer = Coalescer(clock)
    assert coalescer.request(WINDOW) == 0.0
    clock.now += WINDOW + 30  # quiet again
    assert coalescer.request(WINDOW) == 0.0


def test_a_request_soon_after_a_run_waits_for_the_end_of_its_window() -> None:
    clock = Clock()
    coalescer = Coalescer(clock)
    coalescer.request(WINDOW)
    clock.now += 0.5
    assert coalescer.request(WINDOW) == WINDOW - 0.5
    clock.now += 0.5
    assert coalescer.request(WINDOW) is None  # the planned run takes it


def test_a_burst_gets_one_run_per_window() -> None:
    arrivals = [1000.0 + i * 0.05 for i in range(200)]  # 20 requests a second for 10 s
    runs, _ = simulate(arrivals)
    assert runs[0] == arrivals[0]  # the first one at once
    gaps = [b - a for a, b in pairwise(runs)]
    assert all(gap >= WINDOW - 1e-9 for gap in gaps)
    assert len(runs) == 6  # at once, then at the end of each of the five windows


def test_no_request_is_left_behind() -> None:
    # Requests while a planned run is pending, right as it starts, just after it started (while
    # it runs) and long after: each is taken by a run that starts at or after it.
    start = 1000.0
    arrivals = [start, start + 0.1, start + WINDOW, start + WINDOW + 0.01, start + 2.5, start + 60]
    runs, taken_by = simulate(arrivals)
    assert all(run >= at for at, run in zip(arrivals, taken_by, strict=True))
    assert runs[-1] == start + 60  # idle again: at once


def test_a_zero_window_runs_every_request_at_once() -> None:
    clock = Clock()
    coalescer = Coalescer(clock)
    assert [coalescer.request(0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_hold_until_on_stored_times() -> None:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    debounce = timedelta(seconds=60)
    assert hold_until(None, debounce, now) is None  # never written: at once
    assert hold_until(now - timedelta(seconds=61), debounce, now) is None
    last = now - timedelta(seconds=10)
    assert hold_until(last, debounce, now) == last + debounce
