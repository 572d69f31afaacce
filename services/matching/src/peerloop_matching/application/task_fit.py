"""Re-ranks the engine's shortlist by `task_fit`, with an embedding model behind a port.

The task is embedded once per request (`TaskFit.cosines` takes its vector); each offer
description once per (person, skill, description), kept in a bounded cache, so a
changed description is embedded again and an unchanged one never is.
"""

from __future__ import annotations

from collections import OrderedDict

from peerloop_matching.application.task_text import TextEmbedder
from peerloop_matching.domain.scoring import Scored
from peerloop_matching.domain.task_fit import rerank
from peerloop_matching.domain.task_skills import Vector

CACHED_OFFERS = 20_000
"""Offer vectors kept (384 floats each: about 30 MB at this size)."""

OfferKey = tuple[str, str, str]


class TaskFit:
    def __init__(self, embedder: TextEmbedder, *, cached: int = CACHED_OFFERS) -> None:
        self.embedder = embedder
        self._offers: OrderedDict[OfferKey, Vector] = OrderedDict()
        self._cached = cached

    def task_vector(self, task: str) -> Vector | None:
        return self.embedder.query(task) if task.strip() else None

    def _offer_vectors(self, keys: list[OfferKey]) -> dict[OfferKey, Vector]:
        missing = list(dict.fromkeys(k for k in keys if k not in self._offers))
        if missing:
            for key, vector in zip(
                missing, self.embedder.passages([k[2] for k in missing]), strict=True
            ):
                self._offers[key] = vector
        found = {}
        for key in keys:
            self._offers.move_to_end(key)
            found[key] = self._offers[key]
        while len(self._offers) > self._cached:
            self._offers.popitem(last=False)
        return found

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
        vectors = self._offer_vectors(list(keys.values()))
        return {person: float(vectors[key] @ task_vector) for person, key in keys.items()}

    def rerank(
        self, task_vector: Vector | None, shortlist: tuple[Scored, ...], weight: float
    ) -> tuple[Scored, ...]:
        if task_vector is None or weight <= 0 or not shortlist:
            return shortlist
        return rerank(shortlist, self.cosines(task_vector, shortlist), weight)
