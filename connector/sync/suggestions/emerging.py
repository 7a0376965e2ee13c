"""Emerging causes: recent unlinked tickets that are alike and belong to no open problem.

`find_clusters` first removes what all the window's tickets share (their mean vector: the
language and the product say nothing about a cause), then groups them greedily around centres:
the candidate with the most alike candidates (cosine >= `similarity`) is a centre and those
alike candidates its group; then the next centre among the rest, until no candidate has
`min_tickets - 1` alike ones left. Every member is alike to its centre, so a group cannot drift
from one cause into a neighbouring one through a chain of in-between tickets (DBSCAN's
connected cores did, at a purity near 0.55 on the bench), and a member must also be alike to
`cohesion` of its group's tickets, which drops the group's fringe. A group is a cluster when it has
`min_tickets` tickets from `min_organizations` organisations. Pure numpy over the window's
candidates, so the same function runs in the worker and in `bench/suggest.py`.

`is_emerging_candidate` is the worker's rule for which unlinked tickets are candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# The window, similarity and minimums are settings (`suggestions.emerging` in the config, whose
# defaults `bench/suggest.py` measured); these two are the engine's own.
#: The share of a group's tickets a member must be alike to (see `find_clusters`).
DEFAULT_COHESION = 0.5
#: An unlinked ticket whose best open problem has this confidence or more is explained by it:
#: as sure as an auto-link can be, it belongs to that problem, not to a new cause (tuned on the
#: bench's seeds 1-3: a lower cut-off, like the suggestion threshold, lost most new causes).
DEFAULT_EXPLAINED_CONFIDENCE = 0.95


def is_emerging_candidate(
    best_confidence: float | None, *, explained: float = DEFAULT_EXPLAINED_CONFIDENCE
) -> bool:
    """Whether an unlinked ticket may start or join an emerging cause: it may unless an open
    problem explains it (its best suggestion's confidence reaches `explained`). None: no
    problem to compare with (no model yet), so every ticket is a candidate."""
    return best_confidence is None or best_confidence < explained


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    vector: npt.NDArray[np.float32]
    organization_id: int | None


@dataclass(frozen=True)
class Cluster:
    ticket_ids: tuple[int, ...]  # in the candidates' order
    organizations: int


def find_clusters(
    candidates: Sequence[Candidate],
    *,
    similarity: float,
    min_tickets: int,
    min_organizations: int,
    background: npt.NDArray[np.float32] | None = None,
    cohesion: float = DEFAULT_COHESION,
) -> list[Cluster]:
    """`background`: the mean vector of all the window's tickets (linked or not), removed
    before comparing; None: the candidates' own mean (right when they are many and varied; a
    handful of one cause would lose what they share, so the worker passes the window's)."""
    if len(candidates) < min_tickets:
        return []
    vectors = np.vstack([c.vector for c in candidates]).astype(np.float32)
    # What all tickets share (language, the product) says nothing about their cause.
    mean = vectors.mean(axis=0) if background is None else background
    vectors = vectors - mean
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    alike = (vectors @ vectors.T) >= similarity
    np.fill_diagonal(alike, True)
    # Greedy around centres, no chaining: the ticket with the most alike tickets is a centre
    # and its alike tickets its group; then the next among the rest, until no ticket has
    # `min_tickets` alike ones left. Every member is alike to its centre, so a group cannot
    # drift from one cause into a neighbouring one through a chain of in-between tickets.
    group = np.full(len(candidates), -1)
    free = np.ones(len(candidates), dtype=bool)
    next_group = 0
    while True:
        counts = (alike & free).sum(axis=1) * free
        centre = int(np.argmax(counts))
        if counts[centre] < min_tickets:
            break
        taken = alike[centre] & free
        if cohesion > 0:  # drop the fringe: members alike to too few of the group
            inside = np.flatnonzero(taken)
            share = alike[np.ix_(inside, inside)].mean(axis=1)
            taken[inside[share < cohesion]] = False
            taken[centre] = True
            if taken.sum() < min_tickets:
                free[centre] = False
                continue
        group[taken] = next_group
        free &= ~taken
        next_group += 1
    clusters = []
    for g in range(next_group):
        members = [int(i) for i in np.flatnonzero(group == g)]
        organizations = {
            candidates[i].organization_id
            for i in members
            if candidates[i].organization_id is not None
        }
        if len(members) >= min_tickets and len(organizations) >= min_organizations:
            ids = tuple(candidates[i].ticket_id for i in members)
            clusters.append(Cluster(ids, len(organizations)))
    return clusters
