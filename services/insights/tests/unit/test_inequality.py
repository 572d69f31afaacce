"""Gini and the top decile's share, on loads whose answers are known."""

from __future__ import annotations

import pytest
from peerloop_insights.domain.inequality import gini, top_share


@pytest.mark.parametrize(
    ("loads", "expected"),
    [
        ([], None),
        ([0, 0, 0], None),
        ([3, 3, 3, 3], 0.0),
        ([0, 0, 0, 4], 0.75),
        ([1, 2, 3, 4], 0.25),
    ],
)
def test_gini(loads, expected):
    assert gini(loads) == (expected if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("loads", "expected"),
    [
        ([], None),
        ([5] * 10, 0.1),
        ([91] + [1] * 9, 0.91),
        ([10, 10] + [0] * 9, 1.0),  # 11 people: the top 10 % is 2 of them
    ],
)
def test_top_share(loads, expected):
    assert top_share(loads) == (expected if expected is None else pytest.approx(expected))
