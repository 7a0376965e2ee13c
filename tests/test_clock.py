"""The sync core reads time only through its clock (`tests/test_architecture.py` checks it reads
it nowhere else), so a test moves the time by hand instead of waiting: here a resolved problem
leaves the Known problem dropdown once the grace period has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.bootstrap import WorkerContext
from connector.clock import SystemClock
from connector.store.models import Problem, ProblemState
from connector.sync.known_problems import desired_options
from connector.sync.signals import known_problem_value
from tests.fake_clock import FakeClock


def test_a_resolved_problem_leaves_the_dropdown_when_the_clock_passes_the_grace_period(
    runtime: WorkerContext,
) -> None:
    resolved_at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with runtime.db.session() as s:
        problem = Problem(
            cause_key="rule:billing:double charge",
            team="billing",
            summary="Double charge",
            jira_issue_id="10001",
            jira_key="FIN-1",
            state=ProblemState.RESOLVED,
            resolved_at=resolved_at,
        )
        s.add(problem)
        s.flush()
        value = known_problem_value(problem.id)
    clock = FakeClock(resolved_at + timedelta(hours=1))
    assert desired_options(runtime.db, runtime.config, clock.now()) == {
        value: "FIN-1 Double charge (resolved)"
    }
    clock.advance(timedelta(hours=runtime.config.known_problem_grace_hours))
    assert desired_options(runtime.db, runtime.config, clock.now()) == {}


def test_the_worker_context_uses_the_system_clock(runtime: WorkerContext) -> None:
    assert isinstance(runtime.clock, SystemClock)
    assert runtime.clock.now().tzinfo is not None  # aware UTC, as the database stores it
