"""The numbers `/metrics` reads from the database and the queue, each at a cost that does not
grow with the stored events: events waiting or failed through the (state, id) index and counted
up to a cap, the last deliveries by a bounded walk of the primary key (`last_delivery`). How
many events were processed or ignored is a counter the worker increments
(`connector.counters.EVENTS_FINISHED`), not a count of rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.logs import log_event
from connector.ops import queries
from connector.ops.last_delivery import LastDeliveries
from connector.store.models import EventState, InboundEvent

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)

BACKLOG_STATES = (EventState.PENDING, EventState.FAILED)
BACKLOG_CAP = 10_000  # events counted per state; a longer backlog reads as the cap


@dataclass(frozen=True)
class StoreGauges:
    problems: dict[str, int]
    replies: dict[str, int]
    backlog: dict[tuple[str, str], int]  # (source, state) -> events, up to BACKLOG_CAP
    last_delivery: dict[str, datetime | None]
    awaiting_approval: int


@dataclass(frozen=True)
class Reading:
    queue_depth: int | None = None  # None: the queue did not answer
    store: StoreGauges | None = None  # None: the database did not answer


class GaugeReader:
    """Reads the gauges; keeps the last-delivery walk between reads (one read at a time)."""

    def __init__(self, runtime: AppContext) -> None:
        self.runtime = runtime
        self.deliveries = LastDeliveries()

    def read(self) -> Reading:
        from connector.queue import queue_depth

        depth: int | None = None
        store: StoreGauges | None = None
        try:
            depth = queue_depth(self.runtime.huey)
        except Exception as exc:
            log_event(log, "metrics.queue_unavailable", level=logging.WARNING, error=_name(exc))
        try:
            store = self._store()
        except Exception as exc:
            log_event(log, "metrics.store_unavailable", level=logging.WARNING, error=_name(exc))
        return Reading(depth, store)

    def _store(self) -> StoreGauges:
        db = self.runtime.db
        with db.session() as session:
            events = backlog(session, BACKLOG_CAP)
            last = self.deliveries.read(session)
        return StoreGauges(
            problems=queries.problem_counts(db),
            replies=queries.reply_counts(db),
            backlog=events,
            last_delivery=last,
            awaiting_approval=queries.awaiting_approval(self.runtime),
        )


def backlog(session: Session, cap: int) -> dict[tuple[str, str], int]:
    """Events waiting or failed by source, the first `cap` of each state (by id)."""
    counts: dict[tuple[str, str], int] = {}
    for state in BACKLOG_STATES:
        first = (
            select(InboundEvent.source)
            .where(InboundEvent.state == state)
            .order_by(InboundEvent.id)
            .limit(cap)
            .subquery()
        )
        rows = session.execute(select(first.c.source, func.count()).group_by(first.c.source))
        for source, n in rows:
            counts[(source, state.value)] = int(n)
    return counts


def _name(exc: BaseException) -> str:
    return type(exc).__name__  # a driver's message can name hosts and databases
