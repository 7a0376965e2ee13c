"""Sentence vectors from WordLlama, a static embedding model whose weights ship inside its
PyPI wheel (`wordllama`, 256 dimensions, MIT): no network at run time, no torch, about 0.05 ms
per ticket on one core.

WordLlama looks for its tokenizer under a folder name its wheel does not use and would then try
the Hugging Face hub; pointing its cache at the package's own folder and disabling downloads
makes it load what the wheel ships, and fail loudly otherwise (never a download).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: Enough of a ticket to know what it is about; the rest is signatures and quoted replies.
MAX_CHARS = 2000


class WordLlamaEncoder:
    """Thread-safe and lazy: the model (16 MB of weights) loads on first use."""

    dimensions = 256

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-length vectors, one row per text (an empty text gives a zero row)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        model = self._loaded()
        clipped = [t[:MAX_CHARS] for t in texts]
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty text has no norm
            vectors = np.asarray(model.embed(clipped, norm=True), dtype=np.float32)
        vectors[~np.isfinite(vectors).all(axis=1)] = 0.0
        return vectors

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                import wordllama

                self._model = wordllama.WordLlama.load(
                    cache_dir=Path(wordllama.__file__).parent, disable_download=True
                )
            return self._model
