"""How well the suggestion engine finds the shared cause, on real customer messages.

    python bench/suggest.py --data ../shared/data/banking77/train.csv [--shots 10] [--seed 0]

Reads any CSV with columns `text,category` (each category plays one cause, each text one
ticket's first comment) and runs the engine's own classes, the ones the worker uses: the text
model (`connector.textmodel.encoder.WordLlamaEncoder`), the trained model with its closeness
factor (`connector.sync.suggestions.closeness.GatedSuggester`), the emerging-cause candidate
rule and clustering (`emerging_scan.is_emerging_candidate`, `emerging.find_clusters`), with the
thresholds of the embedded default config (what the README recommends).

Protocol. In a seeded shuffle, 10 categories get no problem (the emerging causes); of every
other category the first `--shots` tickets are linked to its problem by an agent, and every
other ticket of those categories is a query, scored on:
- top-1 and top-3 accuracy of the ranked problems;
- auto-link precision and coverage at `--autolink-threshold` (default 0.9, the README's
  recommended `suggestions.auto_link_confidence`): of the queries whose best confidence reaches
  it, the share ranked right, and their share of all queries;
- the expected calibration error of the best confidence (10 equal bins);
- ms_per_ticket: encoding and ranking, per query, measured in this run.
The same run measures a plain baseline: TF-IDF over character 2-5-grams, one centroid per
problem, cosine.

Emerging causes: every non-shot ticket (the queries and all tickets of the 10 categories without
a problem) streams in, one a minute, each from one of 40 organisations drawn by the seed, as
unlinked tickets (no agent links anything during the stream). Every 10 minutes the worker's scan
runs over the window's candidates (at most the newest 2,000, as in the worker); a cluster joins
the proposal holding most of its tickets, or becomes a new one. Recall: the share of the 10
categories for which, by their 20th ticket, a proposal's majority is that category. Purity: the
share of a proposal's tickets from its majority category, averaged over the proposals at the end.

Data: BANKING77 (Casanueva, Temčinas, Gerz, Henderson, Vulić, "Efficient Intent Detection with
Dual Sentence Encoders", NLP4ConvAI 2020; PolyAI-LDN/task-specific-datasets; CC BY 4.0).
The last line is machine-readable:
    suggest shots=.. queries=.. top1=.. top3=.. baseline_top1=.. autolink_precision=..
    autolink_coverage=.. ece=.. ms_per_ticket=.. emerging_recall=.. emerging_purity=..
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from connector.config import embedded_defaults_text, parse_config
from connector.sync.suggestions.closeness import GatedSuggester
from connector.sync.suggestions.emerging import Candidate, find_clusters
from connector.sync.suggestions.emerging_scan import MAX_CANDIDATES, is_emerging_candidate
from connector.sync.suggestions.service import ticket_text
from connector.textmodel.encoder import WordLlamaEncoder
from connector.zendesk.models import Ticket

HIDDEN = 10
ORGANISATIONS = 40
SCAN_EVERY = 10  # minutes (tickets) between two scans
FIRST_TICKETS = 20


@dataclass
class Row:
    text: str
    category: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CSV with columns text,category")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--autolink-threshold", type=float, default=0.9)
    args = parser.parse_args()

    with open(args.data, newline="", encoding="utf-8") as f:
        rows = [Row(r["text"], r["category"]) for r in csv.DictReader(f)]
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    categories = sorted({r.category for r in rows})
    hidden = set(rng.sample(categories, HIDDEN))
    organisation = [rng.randrange(ORGANISATIONS) for _ in rows]
    linked: dict[str, int] = defaultdict(int)
    shot_ids: list[int] = []
    stream: list[int] = []
    for i, row in enumerate(rows):
        if row.category not in hidden and linked[row.category] < args.shots:
            linked[row.category] += 1
            shot_ids.append(i)
        else:
            stream.append(i)
    shots = [rows[i] for i in shot_ids]
    problem = {c: n for n, c in enumerate(sorted(linked))}
    queries = [i for i in stream if rows[i].category not in hidden]

    encoder = WordLlamaEncoder()
    texts = [ticket_text(Ticket(id=1, description=r.text)) for r in rows]
    encoder.encode(texts[:1])  # load the model before timing
    shot_vectors = encoder.encode([texts[i] for i in shot_ids])
    model = GatedSuggester.train(shot_vectors, [problem[r.category] for r in shots])
    assert model is not None

    started = time.perf_counter()
    query_vectors = encoder.encode([texts[i] for i in queries])
    ranked = model.rank(query_vectors, top=3)
    ms_per_ticket = (time.perf_counter() - started) * 1000 / len(queries)

    truth = np.array([problem[rows[i].category] for i in queries])
    top1 = np.array([r[0].problem_id for r in ranked])
    confidence = np.array([r[0].confidence for r in ranked])
    right = top1 == truth
    top3 = np.mean([t in {m.problem_id for m in r} for r, t in zip(ranked, truth, strict=True)])
    auto = confidence >= args.autolink_threshold
    precision = float(right[auto].mean()) if auto.any() else 0.0
    baseline = baseline_top1(
        [r.text for r in shots],
        [problem[r.category] for r in shots],
        [rows[i].text for i in queries],
        truth,
    )
    print(f"queries {len(queries)}, problems {len(problem)}, shots {len(shots)}")
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        chosen = confidence >= threshold
        p = float(right[chosen].mean()) if chosen.any() else 0.0
        print(f"  from {threshold:.2f}: precision {p:.3f} coverage {chosen.mean():.3f}")

    recall, purity, proposals = emerging(rows, stream, hidden, organisation, encoder, model, texts)
    print(f"emerging: {proposals} proposals at the end")
    print(
        f"suggest shots={args.shots} queries={len(queries)} top1={right.mean():.3f} "
        f"top3={top3:.3f} baseline_top1={baseline:.3f} autolink_precision={precision:.3f} "
        f"autolink_coverage={auto.mean():.3f} ece={ece(confidence, right):.3f} "
        f"ms_per_ticket={ms_per_ticket:.3f} emerging_recall={recall:.3f} "
        f"emerging_purity={purity:.3f}"
    )


def ece(confidence: npt.NDArray[np.float64], right: npt.NDArray[np.bool_], bins: int = 10) -> float:
    total = 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total)


# -- the baseline: TF-IDF over character 2-5-grams, one centroid per problem ---------------------
def ngrams(text: str) -> Counter[str]:
    padded = f" {' '.join(text.lower().split())} "
    return Counter(padded[i : i + n] for n in range(2, 6) for i in range(len(padded) - n + 1))


def baseline_top1(
    train: Sequence[str],
    labels: Sequence[int],
    queries: Sequence[str],
    truth: npt.NDArray[np.int64],
) -> float:
    counted = [ngrams(t) for t in train]
    vocabulary: dict[str, int] = {}
    df: Counter[str] = Counter()
    for c in counted:
        df.update(c.keys())
        for gram in c:
            vocabulary.setdefault(gram, len(vocabulary))
    n = len(train)
    idf = np.zeros(len(vocabulary))
    for gram, index in vocabulary.items():
        idf[index] = math.log((1 + n) / (1 + df[gram])) + 1

    def vector(c: Counter[str]) -> npt.NDArray[np.float64]:
        v = np.zeros(len(vocabulary))
        for gram, count in c.items():
            index = vocabulary.get(gram)
            if index is not None:
                v[index] = (1 + math.log(count)) * idf[index]
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    classes = sorted(set(labels))
    train_vectors = np.vstack([vector(c) for c in counted])
    centroids = np.vstack([train_vectors[np.array(labels) == k].mean(axis=0) for k in classes])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    hits = 0
    for text, expected in zip(queries, truth, strict=True):
        scores = centroids @ vector(ngrams(text))
        hits += classes[int(np.argmax(scores))] == expected
    return hits / len(queries)


# -- emerging causes: the stream ----------------------------------------------------------------
@dataclass
class Proposal:
    tickets: list[int] = field(default_factory=list)


def emerging(
    rows: list[Row],
    stream: list[int],
    hidden: set[str],
    organisation: list[int],
    encoder: WordLlamaEncoder,
    model: GatedSuggester,
    texts: list[str],
    **overrides: object,
) -> tuple[float, float, int]:
    config = parse_config(embedded_defaults_text(), "defaults").suggestions
    below = float(overrides.pop("below", config.min_confidence))  # type: ignore[arg-type]
    settings = config.emerging.model_copy(update=overrides)
    vectors = encoder.encode([texts[i] for i in stream])
    best = [m[0].confidence for m in model.rank(vectors, top=1)]
    candidate = [is_emerging_candidate(b, below) for b in best]
    window = settings.window_hours * 60  # one ticket a minute
    proposals: list[Proposal] = []
    held: dict[int, int] = {}  # ticket -> proposal
    seen: Counter[str] = Counter()
    found_by: dict[str, bool] = {c: False for c in hidden}
    for minute, index in enumerate(stream):
        category = rows[index].category
        seen[category] += 1
        if minute % SCAN_EVERY == 0 or category in hidden:
            scan(
                minute, window, stream, candidate, vectors, organisation, settings, proposals, held
            )
        if category in hidden and seen[category] == FIRST_TICKETS:
            found_by[category] = any(majority(rows, p.tickets)[0] == category for p in proposals)
    recall = sum(found_by.values()) / len(found_by)
    purities = [majority(rows, p.tickets)[1] for p in proposals if p.tickets]
    purity = float(np.mean(purities)) if purities else 0.0
    return recall, purity, len(proposals)


def scan(
    minute: int,
    window: int,
    stream: list[int],
    candidate: list[bool],
    vectors: npt.NDArray[np.float32],
    organisation: list[int],
    settings: object,
    proposals: list[Proposal],
    held: dict[int, int],
) -> None:
    recent = [p for p in range(max(0, minute - window + 1), minute + 1) if candidate[p]][
        -MAX_CANDIDATES:
    ]
    found = find_clusters(
        [Candidate(stream[p], vectors[p], organisation[stream[p]]) for p in recent],
        similarity=settings.similarity,  # type: ignore[attr-defined]
        min_tickets=settings.min_tickets,  # type: ignore[attr-defined]
        min_organizations=settings.min_organizations,  # type: ignore[attr-defined]
    )
    for cluster in found:  # as store/proposals.merge does
        overlap = Counter(held[t] for t in cluster.ticket_ids if t in held)
        if overlap:
            target = max(overlap, key=lambda p: (overlap[p], -p))
        else:
            proposals.append(Proposal())
            target = len(proposals) - 1
        for ticket in cluster.ticket_ids:
            if ticket not in held:
                held[ticket] = target
                proposals[target].tickets.append(ticket)


def majority(rows: list[Row], tickets: list[int]) -> tuple[str, float]:
    counts = Counter(rows[t].category for t in tickets)
    category, count = counts.most_common(1)[0]
    return category, count / len(tickets)


if __name__ == "__main__":
    main()
