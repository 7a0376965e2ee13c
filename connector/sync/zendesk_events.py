"""Zendesk events: re-read the tickets they name (100 per call, with the names of their people
and organizations, for the dashboard) and re-link them.

The payload is only a hint: whatever the order or number of deliveries, the current ticket
decides. Events caused by the connector's own API user are skipped (no echo loops).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connector.batching import batched
from connector.inbound_model import TicketChange
from connector.logs import log_event
from connector.store import names
from connector.store.models import InboundEvent
from connector.sync.confirm import note_unknown_keys
from connector.sync.known_problems import sync_known_problem_options
from connector.sync.linking import Outcome, evaluate_tickets, unlink_missing
from connector.sync.refresh import refresh_problems
from connector.sync.suggestions.emerging_scan import scan_emerging
from connector.sync.suggestions.service import suggest
from connector.zendesk.models import MAX_BATCH

if TYPE_CHECKING:
    from connector.sync.ports import Services

log = logging.getLogger(__name__)


def tickets_to_read(
    batch: list[InboundEvent], own_user_id: int | None
) -> tuple[list[int], dict[int, int | None]]:
    """Distinct ticket ids of the batch, without the connector's own changes, and who acted."""
    actors: dict[int, int | None] = {}
    for event in batch:
        change = TicketChange.from_payload(event.payload)
        if own_user_id is not None and change.actor_id == own_user_id:
            continue
        actors[change.ticket_id] = change.actor_id
    return sorted(actors), actors


def sync_tickets(
    runtime: Services,
    ticket_ids: list[int],
    actors: dict[int, int | None],
) -> Outcome:
    outcome = Outcome()
    for chunk in batched(ticket_ids, MAX_BATCH):
        read = runtime.zendesk.show_many_named(list(chunk))
        names.remember(runtime.db, read.user_names(), read.organization_names(), read.user_roles())
        tickets = read.tickets
        found = {t.id for t in tickets}
        part = evaluate_tickets(runtime, tickets, actors)
        outcome.touched |= part.touched
        outcome.woken |= part.woken
        outcome.unknown_keys.update(part.unknown_keys)
        outcome.unexplained |= part.unexplained
        unlink_missing(runtime.db, [t for t in chunk if t not in found], outcome)
        suggest(runtime, tickets, outcome)
    refresh_problems(runtime, outcome.touched)
    if outcome.woken:  # back in the Known problem dropdown
        sync_known_problem_options(runtime)
    note_unknown_keys(runtime.db, runtime.zendesk, runtime.config, outcome.unknown_keys)
    if outcome.unexplained:  # new candidates for an emerging cause (reconcile scans anyway)
        scan_emerging(runtime)
    return outcome


def handle(runtime: Services, batch: list[InboundEvent]) -> None:
    """The handler of Zendesk events: one ticket read per 100 tickets, then re-link."""
    own_user_id = runtime.zendesk_user_id
    ticket_ids, actors = tickets_to_read(batch, own_user_id)
    skipped = len(batch) - len(ticket_ids)
    own = [e for e in batch if TicketChange.from_payload(e.payload).actor_id == own_user_id]
    if own:
        log_event(
            log,
            "zendesk.events.own_skipped",
            events=len(own),
            user_id=own_user_id,
            reason=OWN_REASON,
        )
    if ticket_ids:
        sync_tickets(runtime, ticket_ids, actors)
    log_event(
        log,
        "zendesk.events.handled",
        events=len(batch),
        tickets=len(ticket_ids),
        skipped=skipped,
    )


OWN_REASON = (
    "made by the connector's own Zendesk user (CONNECTOR_ZENDESK_EMAIL): its own writes coming "
    "back. A person who acts with that login is ignored too: give the connector a dedicated user"
)
