"""One lease primitive for every claim: a row is taken by writing a fresh token and the time
into its claim columns with a compare-and-set `UPDATE`, and only where the row is free (no
token, or a token older than the timeout: its holder died). Two processes can never hold the
same row; a crashed holder's rows come free by themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from connector.store.models import utcnow


@dataclass(frozen=True)
class Lease:
    """The claim columns of one table (`token`, `claimed_at`). How long a claim holds is the
    taker's to say (`take(..., timeout=)`): holding, releasing and checking need no time."""

    token: InstrumentedAttribute[Any]
    claimed_at: InstrumentedAttribute[Any]

    @property
    def model(self) -> Any:
        return self.token.class_

    def free(self, timeout: timedelta, now: datetime | None = None) -> ColumnElement[bool]:
        expired = (now or utcnow()) - timeout
        return or_(self.token.is_(None), self.claimed_at < expired)

    def take(
        self,
        session: Session,
        *where: ColumnElement[bool],
        timeout: timedelta,
        order_by: Sequence[Any] = (),
        limit: int | None = None,
        values: Mapping[str, Any] | None = None,
        skip_locked: bool = False,
    ) -> str | None:
        """Claim the free rows matching `where` (at most `limit`, in `order_by` order; a claim
        older than `timeout` counts as free), writing `values` with the claim; the new token, or
        None when no row was free. `skip_locked`
        passes over rows another PostgreSQL transaction is claiming (SQLite ignores it)."""
        if skip_locked and limit is None:
            raise ValueError("skip_locked needs a limit: it applies to the selecting statement")
        token, now = uuid.uuid4().hex, utcnow()
        conditions = [*where, self.free(timeout, now)]
        if limit is not None:
            # Two statements, not UPDATE ... IN (SELECT ... LIMIT): PostgreSQL may rescan such
            # a subquery and update more rows than the limit. The conditions repeated in the
            # UPDATE are the compare-and-set.
            wanted = select(self.model.id).where(*conditions).order_by(*order_by).limit(limit)
            if skip_locked:
                wanted = wanted.with_for_update(skip_locked=True)
            ids = list(session.scalars(wanted))
            if not ids:
                return None
            conditions.insert(0, self.model.id.in_(ids))
        result = session.execute(
            update(self.model)
            .where(*conditions)
            .values({**(values or {}), self.token.key: token, self.claimed_at.key: now})
            .execution_options(synchronize_session=False)
        )
        return token if result.rowcount else None  # type: ignore[attr-defined]

    def held(self, token: str) -> ColumnElement[bool]:
        return self.token == token

    def released(self) -> dict[str, Any]:
        """The values that free a row (to merge into the update that records the outcome)."""
        return {self.token.key: None, self.claimed_at.key: None}
