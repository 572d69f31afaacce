"""The programme owner's figures, against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.programmes.figures import daily_overlap_hours, figures, gini
from peerloop_matching.domain.programmes.solver import Assignment, Match, Unassigned

MONDAY = date(2026, 11, 30)
NINE_TO_FIVE = Hours()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], 0.0),
        ([0, 0, 0], 0.0),
        ([2, 2, 2, 2], 0.0),
        ([0, 0, 0, 4], 0.75),  # Σ|xi-xj| = 24, 2·n²·mean = 2·16·1 = 32
        ([1, 3], 0.25),  # Σ|xi-xj| = 4, 2·4·2 = 16
        ([0, 1, 2], 4 / 9),  # Σ|xi-xj| = 8, 2·9·1 = 18
    ],
)
def test_gini(values, expected):
    assert gini(values) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mentee", "mentor", "hours"),
    [
        (("UTC", NINE_TO_FIVE), ("UTC", NINE_TO_FIVE), 8.0),
        (("UTC", NINE_TO_FIVE), ("Europe/Berlin", NINE_TO_FIVE), 7.0),  # CET is UTC+1
        (("UTC", NINE_TO_FIVE), ("Asia/Kolkata", NINE_TO_FIVE), 2.5),  # 03:30-11:30 UTC
        (("UTC", NINE_TO_FIVE), ("Asia/Tokyo", NINE_TO_FIVE), 0.0),  # 00:00-08:00 UTC
        # Three shared days of 8 hours over a five-day mentee week.
        (("UTC", NINE_TO_FIVE), ("UTC", Hours(days=(1, 2, 3))), 24 / 5),
    ],
)
def test_daily_overlap(mentee, mentor, hours):
    assert daily_overlap_hours(mentee, mentor, MONDAY) == pytest.approx(hours)


def test_the_figures_of_an_assignment():
    assignment = Assignment(
        (
            Match("a", "m1", 0.8),
            Match("b", "m1", 0.6),
            Match("c", "m2", 0.4),
            Match("d", "m1", 0.2),
        ),
        (Unassigned("e", "candidates_full", "all 2 candidate mentor(s) are full"),),
    )
    teams = {"a": "eng", "b": "ops", "c": "eng", "d": "eng", "m1": "eng", "m2": "ops"}
    schedules = {
        "a": ("UTC", NINE_TO_FIVE),
        "b": ("Asia/Tokyo", NINE_TO_FIVE),
        "c": ("Asia/Kolkata", NINE_TO_FIVE),
        "m1": ("UTC", NINE_TO_FIVE),
        "m2": ("UTC", NINE_TO_FIVE),
    }
    found = figures(
        assignment, mentors=["m1", "m2", "m3"], teams=teams, schedules=schedules, monday=MONDAY
    )
    assert found.pairs == 4
    assert found.mean_score == pytest.approx(0.5)
    assert found.worst_score == 0.2
    assert found.max_load == 3
    # loads 3, 1, 0: Σ|xi-xj| = 2·(2+3+1) = 12, 2·9·(4/3) = 24
    assert found.load_gini == pytest.approx(0.5)
    # b (ops) with m1 (eng) and c (eng) with m2 (ops) are cross-team.
    assert found.cross_team_share == pytest.approx(0.5)
    # a: 8 h with m1; b: 0 h (Tokyo); c: 2.5 h (Kolkata); d: UTC by default, 8 h.
    assert found.overlap_share == pytest.approx(0.75)
    assert [u.mentee_id for u in found.unassigned] == ["e"]


def test_no_pairs_gives_no_scores():
    found = figures(Assignment((), ()), mentors=["m1"], teams={}, schedules={}, monday=MONDAY)
    assert found.pairs == 0
    assert math.isnan(found.mean_score)
    assert math.isnan(found.worst_score)
    assert found.max_load == 0
    assert found.load_gini == 0.0
