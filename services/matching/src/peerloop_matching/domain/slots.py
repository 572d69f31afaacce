"""The first times two people could meet: where both their working hours overlap.

Each person's working hours are wall-clock times in their own time zone, so a day's
hours are placed on the calendar day by day (a DST change moves them in UTC, not on
the wall clock). Days a person is away give no time. Pure: the caller passes `after`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peerloop_matching.domain.candidate import Hours

GRID = timedelta(minutes=15)
"""Suggested times start on a quarter hour."""

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class WorkingWeek:
    """When one person works: their zone, weekly hours and days away."""

    time_zone: str
    hours: Hours
    away: tuple[tuple[date, date], ...] = ()

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def is_away(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.away)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


def working_intervals(week: WorkingWeek, first: date, last: date) -> list[Interval]:
    """The person's working time (UTC) on each local day from `first` to `last`."""
    zone = week.zone()
    found: list[Interval] = []
    day = first
    while day <= last:
        if day.isoweekday() in week.hours.days and not week.is_away(day):
            start = _wall(day, week.hours.start, zone)
            end = _wall(day, week.hours.end, zone)
            if end > start:
                found.append((start, end))
        day += timedelta(days=1)
    return found


def _wall(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """`minutes` after local midnight of `day` as read on the wall clock, in UTC."""
    hour, minute = divmod(minutes, 60)
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def intersect(a: list[Interval], b: list[Interval]) -> Iterator[Interval]:
    """The overlaps of two sorted lists of intervals, in order."""
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            yield start, end
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1


def _on_grid(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    midnight = datetime.combine(utc.date(), time(), tzinfo=UTC)
    steps = -(-(utc - midnight) // GRID)  # ceiling
    return midnight + steps * GRID


def shared_slots(
    first: WorkingWeek,
    second: WorkingWeek,
    *,
    after: datetime,
    days: int,
    minutes: int,
    limit: int,
) -> list[Slot]:
    """Up to `limit` back-to-back slots of `minutes` within both people's working hours,
    earliest first, starting after `after` and within `days` days of it."""
    if days <= 0 or limit <= 0 or minutes <= 0:
        return []
    begin = after.astimezone(UTC)
    horizon = begin + timedelta(days=days)
    # A local day can start a day before or after the UTC one: look one day wider.
    lo, hi = begin.date() - timedelta(days=1), horizon.date() + timedelta(days=1)
    length = timedelta(minutes=minutes)
    slots: list[Slot] = []
    for start, end in intersect(
        working_intervals(first, lo, hi), working_intervals(second, lo, hi)
    ):
        at = _on_grid(max(start, begin))
        while at + length <= end and at < horizon and len(slots) < limit:
            slots.append(Slot(at, at + length))
            at += length
        if len(slots) >= limit:
            break
    return slots
