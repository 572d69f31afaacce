"""The first shared slots of two people: time zones, DST changes, days away, no overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.slots import WorkingWeek, shared_slots

NINE_TO_FIVE = Hours(start=9 * 60, end=17 * 60, days=(1, 2, 3, 4, 5))


def week(zone: str, hours: Hours = NINE_TO_FIVE, away: tuple[tuple[date, date], ...] = ()):
    return WorkingWeek(zone, hours, away)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


BERLIN, NEW_YORK = week("Europe/Berlin"), week("America/New_York")

CASES = {
    # Winter: Berlin 08–16 UTC, New York 14–22 UTC.
    "winter: two hours a day": (
        BERLIN, NEW_YORK, "2026-03-02T00:00", 60, 3,
        ["2026-03-02T14:00", "2026-03-02T15:00", "2026-03-03T14:00"],
    ),
    # New York moved its clocks on 8 March, Berlin not until 29 March: three hours.
    "only New York on summer time": (
        BERLIN, NEW_YORK, "2026-03-09T00:00", 60, 4,
        ["2026-03-09T13:00", "2026-03-09T14:00", "2026-03-09T15:00", "2026-03-10T13:00"],
    ),
    # Both on summer time: Berlin 07–15 UTC, New York 13–21 UTC.
    "both on summer time": (
        BERLIN, NEW_YORK, "2026-03-30T00:00", 60, 3,
        ["2026-03-30T13:00", "2026-03-30T14:00", "2026-03-31T13:00"],
    ),
    # The week spans New York's change: Friday before it, Monday after it.
    "across the change, the overlap grows": (
        BERLIN, NEW_YORK, "2026-03-06T15:00", 60, 3,
        ["2026-03-06T15:00", "2026-03-09T13:00", "2026-03-09T14:00"],
    ),
    # Berlin's spring-forward night: 00:00–05:00 local is four hours long, 23:00–03:00 UTC
    # (all of it inside a Saturday evening in Los Angeles).
    "the night of the change is an hour short": (
        week("Europe/Berlin", Hours(0, 5 * 60, (7,))),
        week("America/Los_Angeles", Hours(9 * 60, 24 * 60 - 1, (6,))),
        "2026-03-28T00:00", 60, 10,
        ["2026-03-28T23:00", "2026-03-29T00:00", "2026-03-29T01:00", "2026-03-29T02:00"],
    ),
    "Tokyo and New York never overlap": (week("Asia/Tokyo"), NEW_YORK, "2026-03-02T00:00", 30, 3, []),
    "weekdays and weekends never meet": (
        BERLIN, week("Europe/Berlin", Hours(9 * 60, 17 * 60, (6, 7))), "2026-03-02T00:00", 30, 3, [],
    ),
    "a day away gives no time": (
        BERLIN, week("America/New_York", away=((date(2026, 3, 2), date(2026, 3, 2)),)),
        "2026-03-02T00:00", 60, 1, ["2026-03-03T14:00"],
    ),
    "a half-hour zone, slots longer than an hour": (
        week("Asia/Kolkata"), BERLIN, "2026-03-02T00:00", 90, 3,
        ["2026-03-02T08:00", "2026-03-02T09:30", "2026-03-03T08:00"],
    ),
    "starts on the next quarter hour after now": (
        BERLIN, NEW_YORK, "2026-03-02T14:07", 30, 2, ["2026-03-02T14:15", "2026-03-02T14:45"],
    ),
    "an unknown zone counts as UTC": (
        week("Mars/Olympus"), week("UTC"), "2026-03-02T00:00", 60, 1, ["2026-03-02T09:00"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "after", "minutes", "limit", "expected"), CASES.values(), ids=CASES
)
def test_shared_slots(first, second, after, minutes, limit, expected):
    slots = shared_slots(first, second, after=z(after), days=7, minutes=minutes, limit=limit)
    assert [s.start for s in slots] == [z(e) for e in expected]
    assert all((s.end - s.start).total_seconds() == minutes * 60 for s in slots)


def test_the_order_of_the_two_people_does_not_matter():
    one = shared_slots(BERLIN, NEW_YORK, after=z("2026-03-06T00:00"), days=7, minutes=45, limit=6)
    two = shared_slots(NEW_YORK, BERLIN, after=z("2026-03-06T00:00"), days=7, minutes=45, limit=6)
    assert one == two
    assert len(one) == 6


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, []),
        (1, ["2026-03-03T14:00", "2026-03-03T14:30", "2026-03-03T15:00", "2026-03-03T15:30"]),
    ],
)
def test_nothing_past_the_horizon(days, expected):
    # 15:45 UTC: too late for a 30-minute slot today (the overlap ends at 16:00); the
    # next day's slots must start before the horizon, 15:45 UTC.
    slots = shared_slots(
        BERLIN, NEW_YORK, after=z("2026-03-02T15:45"), days=days, minutes=30, limit=10
    )
    assert [s.start for s in slots] == [z(e) for e in expected]
