"""Which skills a task needs, from its words: the embedding of the task against each skill's,
plus a bonus for a skill named in the text (by name or alias).

Pure: vectors come in L2-normalised (cosine = dot product); the model is an adapter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from peerloop_contracts.skills import Skill

Vector = npt.NDArray[np.float32]

_WORDS = re.compile(r"[^a-z0-9+#]+")


@dataclass(frozen=True)
class InferenceWeights:
    semantic: float = 1.0
    """Weight of the cosine between the task and the skill's text."""
    named: float = 0.10
    """Bonus when the task names the skill or one of its aliases."""
    floor: float = 0.80
    """Below this combined score a skill is not suggested at all (e5 cosines sit near 0.75)."""


@dataclass(frozen=True)
class Inferred:
    skill_id: str
    score: float
    named: bool
    """The task text names the skill (or an alias), not only means it."""


def skill_passage(skill: Skill) -> str:
    """The text a skill is embedded as: its name, a few aliases, what it covers."""
    aliases = ", ".join(skill.aliases[:5])
    parts = [skill.name, f"({aliases})" if aliases else "", skill.description]
    return " ".join(p for p in parts if p)


def _folded(text: str) -> str:
    return " " + " ".join(_WORDS.split(text.lower())).strip() + " "


class SkillVectors:
    """The skills inference may suggest, their vectors and the names they go by."""

    def __init__(self, skills: Sequence[Skill], vectors: Vector) -> None:
        if len(skills) != len(vectors):
            raise ValueError("one vector per skill")
        self.ids = [s.id for s in skills]
        self.matrix = vectors
        self._names = [
            {f for f in (_folded(n) for n in (s.id, s.name, *s.aliases)) if len(f.strip()) > 1}
            for s in skills
        ]

    def named_in(self, text: str) -> list[bool]:
        folded = _folded(text)
        return [any(name in folded for name in names) for names in self._names]

    def infer(
        self, task_text: str, task_vector: Vector, weights: InferenceWeights, limit: int
    ) -> list[Inferred]:
        cosines = self.matrix @ task_vector
        named = self.named_in(task_text)
        scores = weights.semantic * cosines + weights.named * np.asarray(named, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [
            Inferred(self.ids[i], round(float(scores[i]), 4), named[i])
            for i in order
            if scores[i] >= weights.floor
        ]


def keyword_baseline(task_text: str, skills: Sequence[Skill], limit: int) -> list[str]:
    """The yardstick: skills whose name, alias or description words the task shares most."""
    words = set(_folded(task_text).split()) - _STOP
    ranked = []
    for skill in skills:
        terms = set(_folded(" ".join((skill.id, skill.name, *skill.aliases))).split())
        described = set(_folded(skill.description).split()) - _STOP
        hits = 2 * len(words & terms) + len(words & described)
        if hits:
            ranked.append((-hits, skill.id))
    return [skill_id for _, skill_id in sorted(ranked)[:limit]]


_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "we",
        "with",
        "what",
        "why",
        "our",
        "us",
        "you",
        "your",
        "me",
        "need",
        "new",
        "after",
        "since",
        "keeps",
        "get",
    ]
)
