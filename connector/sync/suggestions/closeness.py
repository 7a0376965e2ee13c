"""How close a ticket is to a problem's own tickets, as a factor on the Suggester's confidence.

The Suggester's softmax says which open problem a ticket is most like *if* it belongs to one of
them: with three open problems, a ticket about something else entirely still gets a third or
more. Closeness says whether it belongs at all: the cosine between the ticket and the nearest
ticket linked to the problem, mapped to [0, 1] (nothing below `floor`, all from `full`). On
BANKING77 (all one domain) it changes the calibration by under 0.01; a ticket about another
subject gets confidence 0, so it is suggested nothing and may become an emerging cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from connector.sync.suggestions.engine import Match, Suggester

FLOOR, FULL = 0.25, 0.45


@dataclass(frozen=True)
class GatedSuggester:
    suggester: Suggester
    vectors: npt.NDArray[np.float32]  # the examples, unit length
    labels: npt.NDArray[np.int64]  # their problem ids
    floor: float = FLOOR
    full: float = FULL

    @classmethod
    def train(
        cls, vectors: npt.NDArray[np.float32], labels: Sequence[int]
    ) -> GatedSuggester | None:
        suggester = Suggester.train(vectors, labels)
        if suggester is None:
            return None
        return cls(suggester, np.asarray(vectors, dtype=np.float32), np.asarray(labels))

    def rank(self, vectors: npt.NDArray[np.float32], top: int = 3) -> list[list[Match]]:
        ranked = self.suggester.rank(vectors, top=top)
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        out = []
        for i, matches in enumerate(ranked):
            gated = [
                replace(m, confidence=m.confidence * self._closeness(sims[i], m.problem_id))
                for m in matches
            ]
            out.append(sorted(gated, key=lambda m: -m.confidence))
        return out

    def _closeness(self, sims: npt.NDArray[np.float32], problem_id: int) -> float:
        own = sims[self.labels == problem_id]
        nearest = float(own.max()) if own.size else 0.0
        return float(np.clip((nearest - self.floor) / (self.full - self.floor), 0.0, 1.0))
