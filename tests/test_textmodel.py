"""The text model adapter: offline, unit vectors, and quiet (its library's import would
otherwise configure the root logger)."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np

from connector.textmodel.encoder import WordLlamaEncoder


def test_vectors_are_unit_length_and_alike_texts_are_close() -> None:
    vectors = WordLlamaEncoder().encode(
        ["My card has not arrived", "Where is my new card?", "", "Refund my double charge"]
    )
    assert vectors.shape == (4, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[[0, 1, 3]], axis=1), 1.0, atol=1e-5)
    assert not vectors[2].any()  # an empty text is no vector, not NaN
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[3]


def test_loading_the_model_leaves_the_root_logger_alone() -> None:
    code = (
        "import logging\n"
        "from connector.textmodel.encoder import WordLlamaEncoder\n"
        "WordLlamaEncoder().encode(['x'])\n"
        "root = logging.getLogger()\n"
        "print(len(root.handlers), root.level)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["0", str(logging.WARNING)]
