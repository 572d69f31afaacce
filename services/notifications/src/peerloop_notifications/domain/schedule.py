"""When an outbound notification may leave: quiet hours and the daily digest.

Times are aware datetimes; the rules work in the person's local time and hand
back UTC, so a daylight-saving change moves the wall-clock boundary with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peerloop_notifications.domain.preferences import QuietHours


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _localise(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), at, tzinfo=zone)


def quiet_until(now: datetime, quiet: QuietHours | None, time_zone: str) -> datetime | None:
    """End of the quiet period `now` falls in (UTC), or None when it is not quiet."""
    if quiet is None:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    start, end = _hhmm(quiet.start), _hhmm(quiet.end)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        if start <= clock < end:
            return _localise(local, end, zone).astimezone(UTC)
        return None
    # Spans midnight: quiet from `start` to midnight, and from midnight to `end`.
    if clock >= start:
        return _localise(local + timedelta(days=1), end, zone).astimezone(UTC)
    if clock < end:
        return _localise(local, end, zone).astimezone(UTC)
    return None


def next_digest_at(now: datetime, hour: int, time_zone: str) -> datetime:
    """The next local `hour`:00 strictly after `now`, in UTC."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    candidate = _localise(local, time(hour), zone)
    if candidate <= local:
        candidate = _localise(local + timedelta(days=1), time(hour), zone)
    return candidate.astimezone(UTC)


def send_not_before(
    now: datetime,
    *,
    quiet: QuietHours | None,
    time_zone: str,
    digest_hour: int | None,
) -> datetime:
    """Earliest moment an e-mail or webhook may go: digest time first, then out of quiet hours."""
    moment = now if digest_hour is None else next_digest_at(now, digest_hour, time_zone)
    return quiet_until(moment, quiet, time_zone) or moment
