"""Candidate pairs as a sparse table: one row per (mentee, mentor) that may be paired."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

UnassignedReason = Literal[
    "no_candidate", "excluded_by_rules", "forbidden", "below_floor", "candidates_full"
]

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Pairs:
    """Rows `mentee[i]`, `mentor[i]` (indices into `mentees` / `mentors`) with `score[i]`."""

    mentees: tuple[str, ...]
    mentors: tuple[str, ...]
    mentee: IntArray
    mentor: IntArray
    score: FloatArray
    _mentee_at: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _mentor_at: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (len(self.mentee) == len(self.mentor) == len(self.score)):
            raise ValueError("mentee, mentor and score columns differ in length")
        self._mentee_at.update((m, i) for i, m in enumerate(self.mentees))
        self._mentor_at.update((m, i) for i, m in enumerate(self.mentors))

    @classmethod
    def of(
        cls,
        rows: Iterable[tuple[str, str, float]],
        *,
        mentees: Sequence[str] = (),
        mentors: Sequence[str] = (),
    ) -> Pairs:
        """From (mentee, mentor, score) rows; `mentees`/`mentors` add people without rows."""
        mentee_at: dict[str, int] = {m: i for i, m in enumerate(dict.fromkeys(mentees))}
        mentor_at: dict[str, int] = {m: i for i, m in enumerate(dict.fromkeys(mentors))}
        a: list[int] = []
        b: list[int] = []
        s: list[float] = []
        for mentee, mentor, score in rows:
            a.append(mentee_at.setdefault(mentee, len(mentee_at)))
            b.append(mentor_at.setdefault(mentor, len(mentor_at)))
            s.append(score)
        return cls(
            tuple(mentee_at),
            tuple(mentor_at),
            np.asarray(a, dtype=np.int32),
            np.asarray(b, dtype=np.int32),
            np.asarray(s, dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.score)

    def mentee_index(self, mentee_id: str) -> int | None:
        return self._mentee_at.get(mentee_id)

    def mentor_index(self, mentor_id: str) -> int | None:
        return self._mentor_at.get(mentor_id)

    def rows_of(self, mentee_id: str) -> IntArray:
        """The rows of one mentee, in table order."""
        a = self._mentee_at.get(mentee_id)
        if a is None:
            return np.zeros(0, dtype=np.int32)
        order, starts = self._by_mentee
        return order[starts[a] : starts[a + 1]]

    @cached_property
    def _by_mentee(self) -> tuple[IntArray, npt.NDArray[np.int64]]:
        order = np.argsort(self.mentee, kind="stable").astype(np.int32)
        starts = np.searchsorted(self.mentee[order], np.arange(len(self.mentees) + 1))
        return order, starts.astype(np.int64)

    def row(self, mentee_id: str, mentor_id: str) -> int | None:
        b = self._mentor_at.get(mentor_id)
        rows = self.rows_of(mentee_id)
        hits = rows[self.mentor[rows] == b] if b is not None else rows[:0]
        return int(hits[0]) if len(hits) else None
