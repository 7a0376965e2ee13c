"""When Zendesk and Jira last delivered a webhook, read in bounded steps of the primary key.

No index leads with the source, so "the newest event of this source" is a walk down the
primary key as long as the rows stored since that source last delivered: millions when one side
has been quiet for days while the other was busy. This reader remembers what it has read: each
read takes the rows stored since the previous one, and, while a side is still unfound, at most
`step` rows further back. A side absent from every row down to the oldest never delivered
(None); a side not found yet is left out of the result until the walk reaches it.

It keeps state between reads and is not thread-safe: `/metrics` reads it one computation at a
time (`connector.ops.shared_result`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.store.models import InboundEvent

SOURCES = ("zendesk", "jira")
# Ids are taken in order of insertion but committed in any order (PostgreSQL): rows just below
# the last one read may have been committed since, so each read starts a little below it.
_LATE_COMMITS = 1000


class LastDeliveries:
    def __init__(self, step: int = 100_000) -> None:
        self.step = step
        self._low, self._high = 1, 0  # the ids from low to high have been read
        self._found: dict[str, tuple[int, datetime]] = {}

    def read(self, session: Session) -> dict[str, datetime | None]:
        oldest = session.scalar(select(func.min(InboundEvent.id)))
        newest = session.scalar(select(func.max(InboundEvent.id)))
        if oldest is None or newest is None:
            self._low, self._high, self._found = 1, 0, {}
            return dict.fromkeys(SOURCES)
        if self._high == 0 or newest < self._high or newest - self._high > self.step:
            # First read, a table emptied meanwhile, or too far behind to catch up in one step:
            # start again from the newest rows.
            self._low, self._high, self._found = newest + 1, newest, {}
        if newest > self._high:
            self._scan(session, max(self._low, self._high - _LATE_COMMITS), newest)
            self._high = newest
        if self._low > oldest and any(source not in self._found for source in SOURCES):
            low = max(oldest, self._low - self.step)
            self._scan(session, low, self._low - 1)
            self._low = low
        reached_oldest = self._low <= oldest
        found: dict[str, datetime | None] = {s: at for s, (_, at) in self._found.items()}
        if reached_oldest:
            return {**dict.fromkeys(SOURCES), **found}
        return found

    def _scan(self, session: Session, low: int, high: int) -> None:
        latest = session.execute(
            select(InboundEvent.source, func.max(InboundEvent.id))
            .where(InboundEvent.id >= low, InboundEvent.id <= high)
            .group_by(InboundEvent.source)
        )
        newer = {
            event_id: source
            for source, event_id in latest
            if event_id > self._found.get(source, (0, None))[0]
        }
        if not newer:
            return
        rows = session.execute(
            select(InboundEvent.id, InboundEvent.received_at).where(InboundEvent.id.in_(newer))
        )
        for event_id, at in rows:
            self._found[newer[event_id]] = (event_id, _aware(at))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
