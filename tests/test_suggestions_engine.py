"""The suggestion engine on small synthetic vectors: ranking, calibration, speed, the emerging
clusters and the candidate rule. No text model: vectors are drawn around known directions."""

from __future__ import annotations

import numpy as np
import pytest

from connector.sync.suggestions.emerging import (
    DEFAULT_EXPLAINED_CONFIDENCE,
    Candidate,
    find_clusters,
    is_emerging_candidate,
)
from connector.sync.suggestions.engine import Match, Suggester

DIMS = 32


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def blobs(
    rng: np.random.Generator, centres: np.ndarray, per: int, noise: float
) -> tuple[np.ndarray, list[int]]:
    vectors = np.vstack([c + noise * rng.standard_normal((per, centres.shape[1])) for c in centres])
    labels = [k for k in range(len(centres)) for _ in range(per)]
    return unit(vectors), labels


def test_no_examples_no_model() -> None:
    assert Suggester.train(np.zeros((0, DIMS), dtype=np.float32), []) is None


def test_ranks_the_problem_whose_examples_are_alike_first() -> None:
    rng = np.random.default_rng(1)
    centres = unit(rng.standard_normal((5, DIMS)))
    x, y = blobs(rng, centres, 10, 0.05)
    problem_ids = [100 + k for k in y]  # labels are problem ids, not indexes
    model = Suggester.train(x, problem_ids)
    assert model is not None
    queries, truth = blobs(rng, centres, 4, 0.05)
    ranked = model.rank(queries, top=3)
    assert len(ranked) == len(queries)
    for matches, k in zip(ranked, truth, strict=True):
        assert len(matches) == 3
        assert isinstance(matches[0], Match)
        assert matches[0].problem_id == 100 + k
        assert matches[0].confidence > 0.9  # well separated: confident
        confidences = [m.confidence for m in matches]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)


def test_a_ticket_between_two_problems_is_not_confident() -> None:
    rng = np.random.default_rng(2)
    centres = unit(rng.standard_normal((2, DIMS)))
    x, y = blobs(rng, centres, 10, 0.05)
    model = Suggester.train(x, [7 + k for k in y])
    assert model is not None
    middle = unit((centres[0] + centres[1])[None, :])
    (matches,) = model.rank(middle, top=2)
    assert {m.problem_id for m in matches} == {7, 8}
    assert matches[0].confidence < 0.8
    assert sum(m.confidence for m in matches) == pytest.approx(1.0, abs=1e-6)


def test_confidence_is_calibrated_on_overlapping_problems() -> None:
    """Noisy, overlapping problems: among queries with confidence about p, about p are right
    (expected calibration error small), and accuracy is far above chance."""
    rng = np.random.default_rng(3)
    centres = unit(rng.standard_normal((10, DIMS)))
    x, y = blobs(rng, centres, 30, 0.25)
    model = Suggester.train(x, y)
    assert model is not None
    queries, truth = blobs(rng, centres, 100, 0.25)
    ranked = model.rank(queries, top=1)
    confidence = np.array([r[0].confidence for r in ranked])
    right = np.array([r[0].problem_id == t for r, t in zip(ranked, truth, strict=True)])
    assert 0.5 < right.mean() < 0.99  # hard enough for calibration to matter
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
    ece = sum(
        (which == b).mean() * abs(confidence[which == b].mean() - right[which == b].mean())
        for b in range(10)
        if (which == b).any()
    )
    assert ece < 0.08


def test_one_problem_ranks_it() -> None:
    rng = np.random.default_rng(4)
    x = unit(rng.standard_normal((3, DIMS)))
    model = Suggester.train(x, [5, 5, 5])
    assert model is not None
    (matches,) = model.rank(x[:1], top=3)
    assert [m.problem_id for m in matches] == [5]
    assert 0.0 <= matches[0].confidence <= 1.0


def test_candidate_rule() -> None:
    assert is_emerging_candidate(None)  # no model yet: every ticket may be a new cause
    assert is_emerging_candidate(0.2)
    assert not is_emerging_candidate(DEFAULT_EXPLAINED_CONFIDENCE)
    assert not is_emerging_candidate(0.99)
    assert is_emerging_candidate(0.6, explained=0.7)
    assert not is_emerging_candidate(0.6, explained=0.5)


def cause_tickets(
    rng: np.random.Generator, centre: np.ndarray, n: int, first_id: int, orgs: list[int]
) -> list[Candidate]:
    vectors = unit(centre + 0.05 * rng.standard_normal((n, len(centre))))
    return [Candidate(first_id + i, vectors[i], orgs[i % len(orgs)]) for i in range(n)]


def test_clusters_alike_tickets_of_several_organisations() -> None:
    rng = np.random.default_rng(6)
    a, b = unit(rng.standard_normal((2, DIMS)))
    noise = [Candidate(900 + i, v, i) for i, v in enumerate(unit(rng.standard_normal((30, DIMS))))]
    candidates = (
        cause_tickets(rng, a, 6, 100, [1, 2, 3])
        + noise
        + cause_tickets(rng, b, 7, 200, [4, 5, 6, 7])
    )
    clusters = find_clusters(candidates, similarity=0.65, min_tickets=5, min_organizations=3)
    found = sorted((set(c.ticket_ids) for c in clusters), key=min)
    assert found == [set(range(100, 106)), set(range(200, 207))]
    assert sorted(c.organizations for c in clusters) == [3, 4]
    # the ids come in the candidates' order
    for c in clusters:
        assert list(c.ticket_ids) == sorted(c.ticket_ids)


def test_too_few_tickets_or_organisations_is_no_cluster() -> None:
    rng = np.random.default_rng(7)
    centre = unit(rng.standard_normal(DIMS))
    noise = [Candidate(900 + i, v, i) for i, v in enumerate(unit(rng.standard_normal((20, DIMS))))]
    one_org = cause_tickets(rng, centre, 8, 100, [1])
    assert find_clusters(one_org + noise, similarity=0.65, min_tickets=5, min_organizations=3) == []
    few = cause_tickets(rng, centre, 4, 100, [1, 2, 3, 4])
    assert find_clusters(few + noise, similarity=0.65, min_tickets=5, min_organizations=3) == []
    no_org = [Candidate(c.ticket_id, c.vector, None) for c in cause_tickets(rng, centre, 8, 1, [0])]
    assert find_clusters(no_org + noise, similarity=0.65, min_tickets=5, min_organizations=1) == []
    assert find_clusters([], similarity=0.65, min_tickets=5, min_organizations=3) == []


def test_a_chain_of_in_between_tickets_does_not_join_two_causes() -> None:
    """Two causes and a bridge of tickets between them: each cause is its own cluster (a
    density-connected grouping would make one cluster of both)."""
    rng = np.random.default_rng(8)
    a, b = unit(rng.standard_normal((2, DIMS)))
    steps = [unit(a * (1 - t) + b * t) for t in np.linspace(0.1, 0.9, 9)]
    bridge = [Candidate(500 + i, v, i) for i, v in enumerate(steps)]
    noise = [Candidate(900 + i, v, i) for i, v in enumerate(unit(rng.standard_normal((30, DIMS))))]
    orgs = [1, 2, 3, 4]
    candidates = (
        cause_tickets(rng, a, 8, 100, orgs) + bridge + cause_tickets(rng, b, 8, 200, orgs) + noise
    )
    clusters = find_clusters(candidates, similarity=0.65, min_tickets=5, min_organizations=3)
    assert clusters
    for c in clusters:
        causes = {t // 100 for t in c.ticket_ids if t < 500}
        assert len(causes) == 1, c.ticket_ids
    covered = {t for c in clusters for t in c.ticket_ids}
    assert set(range(100, 108)) <= covered and set(range(200, 208)) <= covered


def test_a_fringe_alike_to_the_centre_only_is_dropped() -> None:
    """Tickets alike to the cause but not to each other stay out (cohesion): each fringe
    ticket is alike to the 6 tickets of the cause (cosine 0.75) and to none of the 10 other
    fringe tickets (0.56), so it is alike to 7 of a 16-ticket group, under half."""
    rng = np.random.default_rng(9)
    basis, _ = np.linalg.qr(rng.standard_normal((DIMS, 11)))
    a, others = basis[:, 0], basis[:, 1:].T
    core = [Candidate(100 + i, unit(a), 1 + i % 4) for i in range(6)]
    fringe = [
        Candidate(300 + i, unit(0.75 * a + np.sqrt(1 - 0.75**2) * u), 10 + i)
        for i, u in enumerate(others)
    ]

    def clusters(cohesion: float) -> list[set[int]]:
        found = find_clusters(
            core + fringe,
            similarity=0.6,
            min_tickets=5,
            min_organizations=3,
            background=np.zeros(DIMS, dtype=np.float32),  # nothing to remove
            cohesion=cohesion,
        )
        return [set(c.ticket_ids) for c in found]

    assert clusters(0.5) == [set(range(100, 106))]
    assert clusters(0.0) == [set(range(100, 106)) | set(range(300, 310))]
