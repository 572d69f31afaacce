"""How evenly teaching is spread: the Gini coefficient and the top decile's share."""

from __future__ import annotations

import math
from collections.abc import Sequence


def gini(loads: Sequence[int]) -> float | None:
    """0 when everyone carries the same load, towards 1 when one person carries it all."""
    n = len(loads)
    total = sum(loads)
    if n == 0 or total == 0:
        return None
    ordered = sorted(loads)
    weighted = sum((i + 1) * x for i, x in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def top_decile_size(n: int) -> int:
    return math.ceil(n / 10)


def top_share(loads: Sequence[int]) -> float | None:
    """The share of all load carried by the top 10 % (rounded up) of people."""
    total = sum(loads)
    if not loads or total == 0:
        return None
    top = sorted(loads, reverse=True)[: top_decile_size(len(loads))]
    return sum(top) / total
