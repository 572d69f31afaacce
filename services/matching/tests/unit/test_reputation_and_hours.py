"""Reputation smoothing and working-hours overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from peerloop_matching.domain.availability import SLOTS_PER_WEEK, overlap, week_mask, week_start
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.reputation import smoothed_rating

MONDAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [
        (0, 0, 4.0),  # nobody rated yet: the prior
        (1, 1, 3.5),  # one 1-star review moves a newcomer half a star, not three
        (5, 1, 4.1667),
        (100, 20, 4.8),  # a long record outweighs the prior
        (20, 20, 1.6),
    ],
)
def test_smoothed_rating(total, count, expected):
    assert smoothed_rating(total, count) == pytest.approx(expected, abs=1e-4)


def test_week_start_is_the_utc_monday():
    assert week_start(datetime(2026, 12, 6, 23, 59, tzinfo=UTC)) == MONDAY


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("UTC", "UTC", 1.0),
        ("Europe/Berlin", "Europe/Paris", 1.0),
        ("Europe/Berlin", "UTC", 0.875),  # one hour apart in winter
        ("Asia/Kolkata", "UTC", 0.3125),  # half-hour offset: 5.5 h apart
        ("Pacific/Auckland", "Europe/London", 0.0),
        ("Not/AZone", "UTC", 1.0),  # unknown zones count as UTC rather than failing
    ],
)
def test_overlap_of_working_hours(a, b, expected):
    assert overlap(week_mask(a, Hours(), MONDAY), week_mask(b, Hours(), MONDAY)) == pytest.approx(
        expected
    )


def test_working_days_matter():
    weekdays = week_mask("UTC", Hours(days=(1, 2, 3, 4, 5)), MONDAY)
    weekend = week_mask("UTC", Hours(days=(6, 7)), MONDAY)
    assert overlap(weekdays, weekend) == 0.0


def test_a_week_wraps_around_for_zones_ahead_of_utc():
    sunday_evening_utc = week_mask("Pacific/Kiritimati", Hours(days=(1,)), MONDAY)
    assert (
        sunday_evening_utc >> (SLOTS_PER_WEEK - 4 * 14) != 0
    )  # Monday 09:00 +14 = Sunday 19:00 UTC


def test_nobody_to_overlap_with_scores_zero():
    assert overlap(0, week_mask("UTC", Hours(), MONDAY)) == 0.0
