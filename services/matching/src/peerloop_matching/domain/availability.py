"""Working-hours overlap between two people in different time zones.

A person's week is a bit mask of 15-minute UTC slots from Monday 00:00 UTC of the
week in question (672 slots), so overlap is one AND and a popcount.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peerloop_matching.domain.candidate import Hours

SLOT_MINUTES = 15
SLOTS_PER_WEEK = 7 * 24 * 60 // SLOT_MINUTES


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of the week `moment` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=65_536)
def week_mask(time_zone: str, hours: Hours, monday: date) -> int:
    zone = _zone(time_zone)
    origin = datetime.combine(monday, time(), tzinfo=UTC)
    mask = 0
    for iso_day in hours.days:
        local_day = monday + timedelta(days=iso_day - 1)
        local_start = datetime.combine(local_day, time(), tzinfo=zone) + timedelta(
            minutes=hours.start
        )
        offset = int((local_start.astimezone(UTC) - origin).total_seconds() // 60)
        first = offset // SLOT_MINUTES
        for slot in range(first, first + (hours.end - hours.start) // SLOT_MINUTES):
            mask |= 1 << (slot % SLOTS_PER_WEEK)
    return mask


def overlap(requester_mask: int, helper_mask: int) -> float:
    """Share of the requester's working time the helper also works (0..1)."""
    wanted = requester_mask.bit_count()
    if wanted == 0:
        return 0.0
    return (requester_mask & helper_mask).bit_count() / wanted
