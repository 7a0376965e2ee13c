"""Failed inbound events, put back in the queue by an admin (`connector events retry` or
`POST /api/events/retry`) once the cause is fixed: they are processed again from a fresh
attempt count, like any new delivery."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from connector.logs import log_event
from connector.store import inbox

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)


def retry_failed_events(
    app: AppContext, event_ids: Iterable[int] | None = None, actor: str = "cli"
) -> list[int]:
    """Put these failed events (or all failed ones, when None) back; the ids put back."""
    retried = inbox.retry_failed(app.db, event_ids)
    if retried:
        app.scheduler.process_events()
    log_event(log, "events.retried", events=len(retried), actor=actor)
    return retried
