"""The worst-off mentee: the highest score every assignable mentee can be given at once.

A threshold is feasible when dropping every pair below it still lets as many mentees
be assigned as with all pairs (a maximum flow). Feasibility only falls as the
threshold rises, so a binary search over the distinct scores finds the highest one;
the solver then maximises the sum among the pairs at or above it. This is the
max-min objective of openreview-matcher's FairFlow, solved exactly by flows.
"""

from __future__ import annotations

import numpy as np

from peerloop_matching.domain.programmes.network import Room, most_assigned
from peerloop_matching.domain.programmes.pairs import IntArray, Pairs


def best_floor(pairs: Pairs, rows: IntArray, room: Room) -> float | None:
    """The largest score s such that the pairs in `rows` scoring ≥ s assign as many mentees
    as all of `rows` do; None when nobody can be assigned."""
    target = most_assigned(pairs, rows, room)
    if target == 0:
        return None
    levels = np.unique(pairs.score[rows])
    lo, hi = 0, len(levels) - 1  # levels[lo] is always feasible: it keeps every row
    while lo < hi:
        mid = (lo + hi + 1) // 2
        kept = rows[pairs.score[rows] >= levels[mid]]
        if most_assigned(pairs, kept, room) == target:
            lo = mid
        else:
            hi = mid - 1
    return float(levels[lo])
