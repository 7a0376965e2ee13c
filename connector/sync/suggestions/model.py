"""The engine a process works with: the text model, and the Suggester trained on the store's
examples, kept in memory and retrained when the examples change (a link made, moved or undone
by any worker changes their fingerprint), so several workers agree without sharing memory."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from connector.store import suggestions as stored
from connector.sync.suggestions.closeness import GatedSuggester

if TYPE_CHECKING:
    from connector.store.db import Database
    from connector.sync.ports import TextModel


class SuggestionEngine:
    def __init__(self, text_model: TextModel) -> None:
        self.text_model = text_model
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        self._suggester: GatedSuggester | None = None
        self.trainings = 0  # how many times this process trained (for tests and logs)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.text_model.encode(texts)

    def suggester(self, db: Database) -> GatedSuggester | None:
        """The model for the examples in the store now (None while nothing is linked)."""
        current = stored.current_fingerprint(db)
        with self._lock:
            if current != self._fingerprint:
                examples = stored.examples(db)
                self._suggester = (
                    GatedSuggester.train(examples.vectors, examples.problem_ids)
                    if examples.problem_ids
                    else None
                )
                self._fingerprint = examples.fingerprint
                self.trainings += 1
            return self._suggester

    def forget(self) -> None:
        """Drop the trained model: the next call retrains (`connector suggestions rebuild`)."""
        with self._lock:
            self._fingerprint = None
            self._suggester = None
