"""Emerging causes in the store: the recent unlinked tickets that no open problem explains are
grouped (`emerging.find_clusters`) into proposed problems an admin accepts or dismisses.

A group joins the open proposal holding most of its tickets, so a proposal grows as alike
tickets arrive. Tickets of a decided (accepted or dismissed) proposal are never proposed again.
The suggested owning team is where agents routed the most alike linked tickets before.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from connector.logs import log_event
from connector.store import proposals
from connector.store import suggestions as stored
from connector.sync.signals import OPEN_STATUSES
from connector.sync.suggestions.closeness import FLOOR
from connector.sync.suggestions.emerging import Candidate, find_clusters, is_emerging_candidate
from connector.zendesk.models import TicketUpdate

if TYPE_CHECKING:
    from connector.store.db import Session
    from connector.sync.ports import HasClock, HasConfig, HasStore, HasZendesk

    class ScanNeeds(HasStore, HasConfig, HasClock, HasZendesk, Protocol):
        """What finding emerging causes needs (Zendesk only to tag, when asked)."""


log = logging.getLogger(__name__)
PROPOSAL_TAG_PREFIX = "zdjira_proposal_"
# The most recent unlinked tickets compared with each other per scan: all pairs of 2,000 take
# about a tenth of a second and 4 MB; a storm beyond that is looked at by its newest tickets.
MAX_CANDIDATES = 2000
TEAM_VOTE_SIMILARITY = FLOOR


def proposal_tag(proposal_id: int) -> str:
    return f"{PROPOSAL_TAG_PREFIX}{proposal_id}"


def scan_emerging(runtime: ScanNeeds) -> list[int]:
    """Group the window's candidates into proposals; the ids of proposals that gained tickets."""
    settings = runtime.config.suggestions
    emerging = settings.emerging
    if not (settings.enabled and emerging.enabled):
        return []
    now = runtime.clock.now()
    since = now - timedelta(hours=emerging.window_hours)  # the window: candidates and background
    with runtime.db.session() as session:
        decided = proposals.decided_ticket_ids(session)
        rows = stored.unlinked_since(session, since, OPEN_STATUSES, MAX_CANDIDATES)
        background = stored.mean_since(session, since, MAX_CANDIDATES)
        candidates = [
            Candidate(row.ticket_id, stored.from_bytes(row.vector), row.organization_id)
            for row in rows
            if row.ticket_id not in decided and is_emerging_candidate(_best(row.matches))
        ]
    clusters = find_clusters(
        candidates,
        similarity=emerging.similarity,
        min_tickets=emerging.min_tickets,
        min_organizations=emerging.min_organizations,
        background=background,
    )
    if not clusters:
        return []
    by_id = {c.ticket_id: c for c in candidates}
    grown: dict[int, list[int]] = {}
    with runtime.db.session() as session:
        routed = _routed(session)
        for cluster in clusters:
            members = [by_id[t] for t in cluster.ticket_ids]
            team = _suggested_team(members, routed)
            proposal, gained = proposals.merge(
                session, [(c.ticket_id, c.organization_id) for c in members], team, now
            )
            if gained:
                grown[proposal.id] = gained
    if emerging.tag:
        for proposal_id, ticket_ids in grown.items():
            update = TicketUpdate(additional_tags=[proposal_tag(proposal_id)])
            runtime.zendesk.update_all(ticket_ids, update)
    if grown:
        log_event(
            log,
            "suggestions.proposals.grown",
            proposals=sorted(grown),
            tickets=sum(len(t) for t in grown.values()),
        )
    return sorted(grown)


def _best(matches: list[dict[str, object]] | None) -> float | None:
    if not matches:
        return None
    value = matches[0].get("confidence")
    return float(value) if isinstance(value, int | float) else None


Routed = tuple[npt.NDArray[np.float32], list[str]]


def _routed(session: Session) -> Routed:
    """The linked tickets' vectors and their problems' teams."""
    pairs = stored.linked_examples_with_teams(session)
    vectors = stored.vectors_of(session, [t for t, _ in pairs])
    kept = [(t, team) for t, team in pairs if t in vectors]
    if not kept:
        return np.zeros((0, 0), dtype=np.float32), []
    return np.vstack([vectors[t] for t, _ in kept]), [team for _, team in kept]


def _suggested_team(members: list[Candidate], routed: Routed) -> str | None:
    """The team most of the members' nearest linked tickets belong to, counting only members
    somewhat alike to a linked ticket (from the closeness floor): a cause unlike anything agents
    routed before gets no suggested team rather than a guess."""
    vectors, teams = routed
    if not teams:
        return None
    sims = np.vstack([m.vector for m in members]) @ vectors.T
    nearest = np.argmax(sims, axis=1)
    votes = Counter(
        teams[int(j)] for i, j in enumerate(nearest) if sims[i, j] >= TEAM_VOTE_SIMILARITY
    )
    return votes.most_common(1)[0][0] if votes else None
