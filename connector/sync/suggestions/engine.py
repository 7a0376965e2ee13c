"""The suggestion engine's classifier: which open problem a ticket's text is most alike to.

Each linked ticket is an example: its text's vector (from the text encoder) labelled with its
problem. `Suggester.train` fits a multinomial logistic regression (softmax over the problems,
L2-regularised) on the examples with plain numpy, in well under a second for thousands of
tickets; `rank` gives each problem a probability, which is the confidence shown to agents.
Nothing here reads text, the database or the clock: the same class runs in the worker and in
`bench/suggest.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

#: The recommended `suggestions.auto_link_confidence` (and the bench's default threshold): on
#: BANKING77 at 10 examples a problem (seeds 1-3), auto-links at 0.9 are right 97% of the time
#: for about 48% of tickets; at 0.95, 98% for 36% (the README's choice: half the tickets linked
#: by themselves at 3 wrong in 100, over a third at 2).
DEFAULT_AUTO_LINK_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Match:
    problem_id: int
    confidence: float


@dataclass(frozen=True)
class Suggester:
    """A trained model: one weight row per problem. Immutable; train a new one to learn."""

    problem_ids: tuple[int, ...]
    weights: npt.NDArray[np.float64]  # (problems, dims + 1): the last column is the bias
    mean: npt.NDArray[np.float64]  # the examples' mean and spread, to standardise a vector
    scale: npt.NDArray[np.float64]
    temperature: float = 1.0

    @classmethod
    def train(
        cls,
        vectors: Vectors,
        labels: Sequence[int],
        *,
        l2: float = 1e-3,
        iterations: int = 100,
    ) -> Suggester | None:
        """Fit on linked tickets (`labels` are problem ids). None when there is nothing to
        tell apart: no example at all."""
        if len(labels) == 0:
            return None
        problem_ids = tuple(sorted(set(labels)))
        index = {p: i for i, p in enumerate(problem_ids)}
        y = np.array([index[p] for p in labels])
        raw = np.asarray(vectors, dtype=np.float64)
        mean = raw.mean(axis=0)
        scale = raw.std(axis=0) + 1e-6
        x = _with_bias((raw - mean) / scale)
        n, d = x.shape
        k = len(problem_ids)
        if k == 1:  # one problem: a ticket is either alike to it or not, judged by rank()
            return cls(problem_ids, np.zeros((1, d)), mean, scale)
        # float32 for the steps: twice as fast, and the loss needs no more precision.
        x32 = x.astype(np.float32)
        onehot = np.zeros((n, k), dtype=np.float32)
        onehot[np.arange(n), y] = 1.0
        w = np.zeros((k, d), dtype=np.float32)
        # Nesterov-accelerated gradient descent on the mean cross-entropy; the step is
        # 1/L for the softmax loss (half the largest eigenvalue of the examples' covariance,
        # plus the L2 term), so it converges without tuning. 100 steps reach the accuracy and
        # calibration of 300 (bench seeds 1-3) in a third of the time.
        step = np.float32(1.0 / (0.5 * _largest_eigenvalue(x) / n + l2))
        velocity = np.zeros_like(w)
        for _ in range(iterations):
            ahead = w + np.float32(0.9) * velocity
            logits = x32 @ ahead.T
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            probs -= onehot
            grad = (probs.T @ x32) / np.float32(n) + np.float32(l2) * ahead
            velocity *= np.float32(0.9)
            velocity -= step * grad
            w += velocity
        return cls(problem_ids, w.astype(np.float64), mean, scale)

    def rank(self, vectors: Vectors, top: int = 3) -> list[list[Match]]:
        """For each vector, the `top` most alike problems, most confident first."""
        x = _with_bias((np.asarray(vectors, dtype=np.float64) - self.mean) / self.scale)
        probs = _softmax(x @ self.weights.T / self.temperature)
        order = np.argsort(-probs, axis=1)[:, :top]
        return [
            [Match(self.problem_ids[j], float(probs[i, j])) for j in row]
            for i, row in enumerate(order)
        ]


def _with_bias(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.hstack([x, np.ones((x.shape[0], 1))])


def _largest_eigenvalue(x: npt.NDArray[np.float64], rounds: int = 15) -> float:
    """Of x.T @ x, by power iteration (the softmax loss's curvature bound)."""
    v = np.ones(x.shape[1]) / np.sqrt(x.shape[1])
    value = 1.0
    for _ in range(rounds):
        u = x.T @ (x @ v)
        value = float(np.linalg.norm(u))
        v = u / max(value, 1e-12)
    return value


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out
