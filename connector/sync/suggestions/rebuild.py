"""`connector suggestions rebuild`: read again the subject and first comment of every linked
ticket and of every ticket the engine remembers, and store their vectors anew (after an upgrade
of the text model, or to fill the store on an install that linked tickets before suggestions
existed). Tickets Zendesk no longer returns are forgotten."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from connector.batching import batched
from connector.store import suggestions as stored
from connector.sync.suggestions.service import ticket_text
from connector.zendesk.models import MAX_BATCH

if TYPE_CHECKING:
    from connector.sync.ports import HasClock, HasStore, HasSuggestionEngine, HasZendesk

    class RebuildNeeds(HasStore, HasClock, HasZendesk, HasSuggestionEngine, Protocol):
        """What rebuilding the vectors needs."""


def rebuild(runtime: RebuildNeeds, progress: Callable[[int, int], None] | None = None) -> int:
    """How many tickets have a vector now."""
    with runtime.db.session() as session:
        ids = stored.remembered_ticket_ids(session)
    done = 0
    for chunk in batched(ids, MAX_BATCH):
        tickets = [t for t in runtime.zendesk.show_many(list(chunk)) if ticket_text(t)]
        vectors = runtime.suggestion_engine.encode([ticket_text(t) for t in tickets])
        with runtime.db.session() as session:
            stored.remember(
                session,
                (
                    stored.Seen(t.id, v, t.organization_id, t.status, t.created_at, t.requester_id)
                    for t, v in zip(tickets, vectors, strict=True)
                ),
                runtime.clock.now(),
            )
            stored.forget(session, set(chunk) - {t.id for t in tickets})
        done += len(tickets)
        if progress is not None:
            progress(done, len(ids))
    runtime.suggestion_engine.forget()
    return done
