"""Re-ranks the engine's shortlist by `task_fit`, with an embedding model behind a port.

The task is embedded once per request (`TaskFit.cosines` takes its vector); each offer
description once per (person, skill, description), and each past task once per request
id, kept in bounded caches, so a changed description is embedded again and an unchanged
one never is.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

import numpy as np

from peerloop_matching.application.task_text import TextEmbedder
from peerloop_matching.domain.scoring import Scored
from peerloop_matching.domain.task_fit import PastTask, rerank
from peerloop_matching.domain.task_skills import Vector

CACHED_OFFERS = 20_000
"""Offer vectors kept (384 floats each: about 30 MB at this size)."""

OfferKey = tuple[str, str, str]


class _Vectors:
    """A bounded least-recently-used cache of text vectors, filled in batches."""

    def __init__(self, size: int) -> None:
        self._found: OrderedDict[Hashable, Vector] = OrderedDict()
        self._size = size

    def get(
        self, keyed: dict[Hashable, str], embed: Callable[[list[str]], Vector]
    ) -> dict[Hashable, Vector]:
        missing = [k for k in keyed if k not in self._found]
        if missing:
            for key, vector in zip(missing, embed([keyed[k] for k in missing]), strict=True):
                self._found[key] = vector
        found = {}
        for key in keyed:
            self._found.move_to_end(key)
            found[key] = self._found[key]
        while len(self._found) > self._size:
            self._found.popitem(last=False)
        return found


class TaskFit:
    def __init__(self, embedder: TextEmbedder, *, cached: int = CACHED_OFFERS) -> None:
        self.embedder = embedder
        self._offers = _Vectors(cached)
        self._past = _Vectors(cached)

    def task_vector(self, task: str) -> Vector | None:
        return self.embedder.query(task) if task.strip() else None

    def cosines(self, task_vector: Vector, shortlist: tuple[Scored, ...]) -> dict[str, float]:
        """Per shortlisted person, the cosine of the task to the offer they were found for."""
        keys = {
            s.candidate.person_id: (
                s.candidate.person_id,
                s.skill_id,
                s.candidate.offers[s.skill_id].description.strip(),
            )
            for s in shortlist
            if s.candidate.offers[s.skill_id].description.strip()
        }
        vectors = self._offers.get({k: k[2] for k in keys.values()}, self.embedder.passages)
        return {person: float(vectors[key] @ task_vector) for person, key in keys.items()}

    def past_cosines(self, task_vector: Vector, past: Sequence[PastTask]) -> dict[str, float]:
        """Per helper, the best cosine of the task to a task they helped with before; both
        are embedded as queries (task to task is a symmetric comparison for e5)."""
        vectors = self._past.get({p.request_id: p.task for p in past}, self._queries)
        best: dict[str, float] = {}
        for p in past:
            cosine = float(vectors[p.request_id] @ task_vector)
            best[p.teacher_id] = max(cosine, best.get(p.teacher_id, cosine))
        return best

    def _queries(self, texts: list[str]) -> Vector:
        return np.stack([self.embedder.query(t) for t in texts])

    def rerank(
        self,
        task_vector: Vector | None,
        shortlist: tuple[Scored, ...],
        weight: float,
        past: Sequence[PastTask] = (),
    ) -> tuple[Scored, ...]:
        if task_vector is None or weight <= 0 or not shortlist:
            return shortlist
        return rerank(
            shortlist,
            self.cosines(task_vector, shortlist),
            weight,
            self.past_cosines(task_vector, past),
        )
