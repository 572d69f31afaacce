"""Privacy by construction: a figure leaves the service only with the people it describes.

Every figure is a `Cell` built from the set of people behind it; a cell describing
fewer than k of them is suppressed (its value is None). The erased placeholder is
never a person. Figures about single people (a ranking, one person's ratings) are not
computed at all, so they cannot leak through any route.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from peerloop_insights.domain.facts import ERASED

DEFAULT_K = 5


@dataclass(frozen=True)
class Cell:
    value: int | float | None
    people: int | None
    """How many people the figure describes; None when suppressed (a small number tells too)."""

    @property
    def suppressed(self) -> bool:
        return self.value is None


def persons(tokens: Iterable[str | None]) -> set[str]:
    return {t for t in tokens if t is not None and t != ERASED}


def cell(value: float | None, people: Iterable[str | None], k: int) -> Cell:
    """The figure if at least k people stand behind it, else a suppressed cell."""
    count = len(persons(people))
    if value is None or count < k:
        return Cell(None, None)
    return Cell(value, count)
