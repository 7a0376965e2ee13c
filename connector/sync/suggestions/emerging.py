"""Emerging causes: recent unlinked tickets that are alike and belong to no open problem.

`find_clusters` groups candidates by the similarity of their vectors, density-based (DBSCAN's
rule): a ticket with at least `min_tickets - 1` alike neighbours (cosine >= `similarity`) is a
core; cores alike to each other join one group, and a ticket alike to a core joins that core's
group. A group is a cluster when it has `min_tickets` tickets from `min_organizations`
organisations. Pure numpy over the window's candidates, so the same function runs in the
worker and in `bench/suggest.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: The worker's defaults (measured by `bench/suggest.py`).
DEFAULT_WINDOW_MINUTES = 24 * 60
DEFAULT_SIMILARITY = 0.6
DEFAULT_MIN_TICKETS = 5
DEFAULT_MIN_ORGANIZATIONS = 3
#: An unlinked ticket whose best open problem has this confidence or more is explained by it.
DEFAULT_EXPLAINED_CONFIDENCE = 0.5


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
) -> list[Cluster]:
    if len(candidates) < min_tickets:
        return []
    vectors = np.vstack([c.vector for c in candidates]).astype(np.float32)
    alike = (vectors @ vectors.T) >= similarity
    np.fill_diagonal(alike, False)
    neighbours = alike.sum(axis=1)
    core = neighbours >= max(min_tickets - 1, 1)
    group = np.full(len(candidates), -1)
    next_group = 0
    for start in np.flatnonzero(core):
        if group[start] >= 0:
            continue
        group[start] = next_group
        stack = [int(start)]
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(alike[i] & core & (group < 0)):
                group[j] = next_group
                stack.append(int(j))
        next_group += 1
    sims = vectors @ vectors[core].T if core.any() else None
    core_index = np.flatnonzero(core)
    for border in np.flatnonzero(~core):
        if sims is None:
            break
        best = int(np.argmax(sims[border]))
        if sims[border, best] >= similarity:
            group[border] = group[core_index[best]]
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
