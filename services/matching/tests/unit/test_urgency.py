"""Urgency and deadlines: how much a request presses, how long a helper has, who ranks first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from matching_builders import NOW, person
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.scoring import Component, Scored
from peerloop_matching.domain.urgency import (
    MIN_TTL,
    NO_PRESSURE,
    Pressure,
    favour_sooner,
    minutes_until_working,
    pressure,
    proposal_ttl,
)

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("urgency", "needed_in", "level", "reason"),
    [
        ("normal", None, 0.0, ""),
        ("low", None, 0.0, ""),
        ("high", None, 0.5, "high urgency"),
        ("normal", timedelta(days=5), 0.0, ""),
        ("normal", timedelta(hours=60), 0.5, "needed by 2026-12-04 22:00 UTC (in 60 h)"),
        ("normal", timedelta(hours=5), 1.0, "needed by 2026-12-02 15:00 UTC (in 5 h)"),
        ("high", timedelta(hours=60), 0.5, "high urgency"),  # the deadline adds nothing
        (
            "high",
            timedelta(hours=5, minutes=30),
            1.0,
            "needed by 2026-12-02 15:30 UTC (in 5 h 30 min)",
        ),
        ("low", -timedelta(hours=1), 1.0, "needed by 2026-12-02 09:00 UTC (in 0 min)"),
    ],
)
def test_pressure_is_the_stronger_of_urgency_and_deadline(urgency, needed_in, level, reason):
    needed_by = NOW + needed_in if needed_in is not None else None
    assert pressure(urgency, needed_by, NOW) == Pressure(level, reason)


@pytest.mark.parametrize(
    ("level", "needed_in", "ttl"),
    [
        (0.0, None, DAY),  # no hurry: the configured expiry
        (0.5, None, DAY / 2.5),  # high urgency: 9.6 h
        (1.0, None, DAY / 4),  # needed within a day: 6 h
        (1.0, timedelta(hours=6), timedelta(hours=2)),  # three helpers fit before the deadline
        (1.0, timedelta(minutes=30), MIN_TTL),  # never under the floor
        (0.0, timedelta(days=30), DAY),  # a far deadline changes nothing
    ],
)
def test_a_pressing_request_gives_each_helper_less_time(level, needed_in, ttl):
    needed_by = NOW + needed_in if needed_in is not None else None
    assert proposal_ttl(DAY, Pressure(level, "x"), needed_by, NOW) == ttl


def test_the_floor_never_exceeds_the_configured_expiry():
    assert proposal_ttl(timedelta(minutes=5), NO_PRESSURE, None, NOW) == timedelta(minutes=5)


NINE_TO_FIVE = week_mask("UTC", Hours(), week_start(NOW))


@pytest.mark.parametrize(
    ("now", "minutes"),
    [
        (NOW, 0),  # Wednesday 10:00, at work
        (NOW.replace(hour=8, minute=50), 10),
        (NOW.replace(hour=18), 15 * 60),  # until Thursday 09:00
        (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), 45 * 60),  # Saturday noon to Monday 09:00
    ],
)
def test_minutes_until_working(now, minutes):
    assert minutes_until_working(week_mask("UTC", Hours(), week_start(now)), now) == minutes


def test_nobody_working_all_week_is_a_week_away():
    assert minutes_until_working(0, NOW) == 7 * 24 * 60


def _scored(pid: str, score: float) -> Scored:
    return Scored(person(pid), "python", (Component("skill_fit", 1.0, score, "offers python"),))


def test_a_pressing_request_prefers_the_helper_at_work_sooner_and_says_why():
    ranked = (_scored("later", 0.60), _scored("sooner", 0.55))
    minutes = {"later": 20 * 60, "sooner": 0}
    pressed = Pressure(1.0, "needed by 2026-12-02 15:00 UTC (in 5 h)")
    first, second = favour_sooner(ranked, minutes, pressed, timedelta(hours=2))
    assert [first.candidate.person_id, second.candidate.person_id] == ["sooner", "later"]
    soon = first.components[-1]
    assert (soon.name, soon.weight, soon.value) == ("available_soon", 0.2, 1.0)
    assert soon.explanation == (
        "at work now; needed by 2026-12-02 15:00 UTC (in 5 h): asked to answer within 2 h"
    )
    assert second.components[-1].explanation.startswith("working hours start in 20 h")


def test_a_request_without_pressure_keeps_its_ranking_and_its_why():
    ranked = (_scored("later", 0.60), _scored("sooner", 0.55))
    assert favour_sooner(ranked, {"later": 900, "sooner": 0}, NO_PRESSURE, DAY) == ranked
