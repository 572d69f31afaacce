"""Quiet hours and digest times in the person's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from peerloop_notifications.domain.preferences import QuietHours
from peerloop_notifications.domain.schedule import next_digest_at, quiet_until, send_not_before


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NIGHT = QuietHours(start="22:00", end="07:00")
LUNCH = QuietHours(start="12:00", end="13:30")

QUIET_CASES = [
    # now (UTC), quiet hours, zone, quiet until (UTC) or None
    ("2026-12-03T23:30", NIGHT, "UTC", "2026-12-04T07:00"),  # after start, before midnight
    ("2026-12-04T03:00", NIGHT, "UTC", "2026-12-04T07:00"),  # after midnight
    ("2026-12-04T07:00", NIGHT, "UTC", None),  # the end itself is no longer quiet
    ("2026-12-03T21:59", NIGHT, "UTC", None),
    ("2026-12-03T22:00", NIGHT, "UTC", "2026-12-04T07:00"),
    # 21:00 UTC is 06:00 next day in Tokyo: quiet until 07:00 JST = 22:00 UTC.
    ("2026-12-03T21:00", NIGHT, "Asia/Tokyo", "2026-12-03T22:00"),
    # 12:00 UTC is 07:00 in New York (EST): just out of quiet hours.
    ("2026-12-03T12:00", NIGHT, "America/New_York", None),
    # 04:00 UTC is 23:00 in New York the day before: quiet until 07:00 EST = 12:00 UTC.
    ("2026-12-04T04:00", NIGHT, "America/New_York", "2026-12-04T12:00"),
    # Kolkata is UTC+05:30: 07:00 UTC is 12:30 local, lunch ends 13:30 = 08:00 UTC.
    ("2026-12-03T07:00", LUNCH, "Asia/Kolkata", "2026-12-03T08:00"),
    ("2026-12-03T08:00", LUNCH, "Asia/Kolkata", None),
    # Across the European DST change (29 March 2026, 02:00 → 03:00 in Berlin):
    # quiet from Saturday 22:00 CET; it ends at 07:00 CEST = 05:00 UTC, not 06:00.
    ("2026-03-28T22:00", NIGHT, "Europe/Berlin", "2026-03-29T05:00"),
    ("2026-12-03T10:00", None, "Europe/Berlin", None),
]


@pytest.mark.parametrize(("now", "quiet", "zone", "until"), QUIET_CASES)
def test_quiet_hours_in_the_persons_time_zone(now, quiet, zone, until):
    expected = utc(until) if until else None
    assert quiet_until(utc(now), quiet, zone) == expected


DIGEST_CASES = [
    ("2026-12-03T06:00", 8, "UTC", "2026-12-03T08:00"),
    ("2026-12-03T08:00", 8, "UTC", "2026-12-04T08:00"),  # strictly after now
    ("2026-12-03T09:00", 8, "UTC", "2026-12-04T08:00"),
    ("2026-12-03T06:00", 8, "Asia/Tokyo", "2026-12-03T23:00"),  # 15:00 JST now
    ("2026-12-03T06:00", 8, "America/Los_Angeles", "2026-12-03T16:00"),  # 22:00 PST yesterday
]


@pytest.mark.parametrize(("now", "hour", "zone", "expected"), DIGEST_CASES)
def test_next_digest_time_is_the_next_local_hour(now, hour, zone, expected):
    assert next_digest_at(utc(now), hour, zone) == utc(expected)


def test_send_not_before_combines_digest_and_quiet_hours():
    now = utc("2026-12-03T12:00")
    assert send_not_before(now, quiet=None, time_zone="UTC", digest_hour=None) == now
    assert send_not_before(now, quiet=LUNCH, time_zone="UTC", digest_hour=None) == utc(
        "2026-12-03T13:30"
    )
    # A digest hour inside quiet hours waits for them to end.
    assert send_not_before(
        now, quiet=QuietHours(start="06:00", end="09:00"), time_zone="UTC", digest_hour=7
    ) == utc("2026-12-04T09:00")


@pytest.mark.parametrize(
    ("start", "end"), [("25:00", "07:00"), ("22:00", "7:00"), ("08:00", "08:00")]
)
def test_bad_quiet_hours_are_rejected(start, end):
    with pytest.raises(ValueError):
        QuietHours(start=start, end=end)
