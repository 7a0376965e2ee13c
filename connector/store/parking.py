"""The one parking rule of stored work (inbound events, reply rows), as SQL: a failure is
parked when its row has been failing since the plan's horizon, or has had the attempts an
error retrying cannot cure gets (`connector.retry.RetryPlan`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_

from connector.retry import RetryPlan


def parking(
    first_failed_at: Any, attempts: Any, plan: RetryPlan
) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """The row's first failure (its own, or now for a first one) and the condition under which
    this failure parks it; `attempts` is the row's attempt count including this one."""
    first_failed = func.coalesce(first_failed_at, plan.now)
    park = [first_failed <= plan.park_failing_since]
    if plan.park_after_attempts is not None:
        park.append(attempts >= plan.park_after_attempts)
    return first_failed, or_(*park)
