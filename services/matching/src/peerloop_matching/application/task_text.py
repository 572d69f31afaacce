"""Understanding the task in hand: the skills it needs, suggested from its words.

The embedder is a port (`TextEmbedder`); the E5 adapter is the one the service runs.
Skill vectors are computed for the skills a task can be resolved to (Peerloop's curated
catalogue and the organisation's own skills: the skills people here offer; the ESCO layer
serves type-ahead and explicit requests): all at the first use, then, when the catalogue
changed (an organisation skill was defined), only those whose text is new.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from peerloop_contracts.skills import SkillCatalogue

from peerloop_matching.domain.task_skills import (
    InferenceWeights,
    Inferred,
    SkillVectors,
    Vector,
    skill_passage,
)

SUGGESTED = 5


class TextEmbedder(Protocol):
    model_id: str

    def query(self, text: str) -> Vector:
        """The L2-normalised vector of a query (a task)."""
        ...

    def passages(self, texts: Sequence[str]) -> Vector:
        """The L2-normalised vectors of documents (skills, offer descriptions), one row each."""
        ...


@dataclass(frozen=True)
class Suggestions:
    skills: tuple[Inferred, ...]
    model_id: str
    took_ms: float


class TaskSkills:
    def __init__(
        self,
        embedder: TextEmbedder,
        catalogue: SkillCatalogue,
        weights: InferenceWeights | None = None,
    ) -> None:
        self.embedder = embedder
        self.weights = weights or InferenceWeights()
        self.catalogue = catalogue
        self._embedded: dict[str, Vector] = {}
        """passage text -> its vector: a definition re-embeds only what it changed."""
        self._lock = threading.Lock()
        self._revision = -1
        self.vectors = self._derive()

    def _derive(self) -> SkillVectors:
        with self._lock:
            if self._revision == self.catalogue.revision:
                return self.vectors
            revision = self.catalogue.revision
            skills = self.catalogue.skills("peerloop") + self.catalogue.skills("organisation")
            passages = [skill_passage(s) for s in skills]
            new = [p for p in dict.fromkeys(passages) if p not in self._embedded]
            if new:
                self._embedded.update(zip(new, self.embedder.passages(new), strict=True))
            rows = [self._embedded[p] for p in passages]
            dim = len(rows[0]) if rows else 0
            matrix = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
            self.vectors = SkillVectors(skills, matrix)
            self._revision = revision
            return self.vectors

    def current(self) -> SkillVectors:
        """The vectors of the catalogue as it is now."""
        if self._revision != self.catalogue.revision:
            return self._derive()
        return self.vectors

    def suggest(self, task: str, limit: int = SUGGESTED) -> Suggestions:
        started = time.perf_counter()
        found = self.inferred(task, self.embedder.query(task), limit)
        took = (time.perf_counter() - started) * 1000
        return Suggestions(tuple(found), self.embedder.model_id, round(took, 2))

    def inferred(self, task: str, vector: Vector, limit: int = SUGGESTED) -> list[Inferred]:
        """The skills for a task whose vector is already known."""
        return self.current().infer(task, vector, self.weights, limit)

    def closeness(self, task: str, texts: Sequence[str]) -> list[float]:
        """Cosine of the task to each text (an offer's description, a past session's task)."""
        if not texts:
            return []
        sims = self.embedder.passages(texts) @ self.embedder.query(task)
        return [float(s) for s in np.clip(sims, 0.0, 1.0)]
