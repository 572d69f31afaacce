"""How much a request presses, and what that changes: shorter answers, sooner helpers.

An urgent request, or one whose `needed_by` is close, cannot wait a day for each
helper to answer: its proposals expire sooner, so the next helper is asked in time,
and helpers whose working hours start sooner rank higher (`available_soon`, a score
component shown in "why"). A request that does not press is matched as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from peerloop_contracts.common import Urgency

from peerloop_matching.domain.availability import SLOT_MINUTES, SLOTS_PER_WEEK, week_start
from peerloop_matching.domain.scoring import Component, Scored

URGENCY_PRESSURE: dict[Urgency, float] = {"low": 0.0, "normal": 0.0, "high": 0.5}
DEADLINE_PRESSURE: tuple[tuple[timedelta, float], ...] = (
    (timedelta(hours=24), 1.0),
    (timedelta(hours=72), 0.5),
)
"""(time left before `needed_by`, pressure): the first row the time left fits under."""
MIN_TTL = timedelta(minutes=15)
"""No helper is given less than this to answer, however close the deadline."""
ASKS_BEFORE_DEADLINE = 3
"""A proposal may use at most this share of the time left: three helpers can be asked."""
SOON_WEIGHT = 0.20
"""Weight of `available_soon` at full pressure (scaled down with the pressure)."""
SOON_HORIZON = timedelta(hours=24)
"""Working hours starting this far ahead or later earn no `available_soon` credit."""


@dataclass(frozen=True)
class Pressure:
    level: float
    """0 (no hurry) .. 1 (needed within a day)."""
    reason: str
    """Why, for the "why" of a proposal: "high urgency", "needed by … (in 5 h)"."""


NO_PRESSURE = Pressure(0.0, "")


def _hours(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


def pressure(urgency: Urgency, needed_by: datetime | None, now: datetime) -> Pressure:
    """The stronger of what the urgency and the deadline say."""
    found = NO_PRESSURE
    if URGENCY_PRESSURE[urgency] > 0:
        found = Pressure(URGENCY_PRESSURE[urgency], f"{urgency} urgency")
    if needed_by is not None:
        left = needed_by - now
        for limit, level in DEADLINE_PRESSURE:
            if left <= limit and level > found.level:
                found = Pressure(
                    level, f"needed by {needed_by:%Y-%m-%d %H:%M} UTC (in {_hours(left)})"
                )
                break
    return found


def proposal_ttl(
    base: timedelta, pressed: Pressure, needed_by: datetime | None, now: datetime
) -> timedelta:
    """How long a helper has to answer: a quarter of `base` at full pressure, never more
    than a third of the time left before `needed_by`, never under `MIN_TTL`
    (nor above `base`)."""
    ttl = base / (1 + 3 * pressed.level)
    if needed_by is not None:
        ttl = min(ttl, (needed_by - now) / ASKS_BEFORE_DEADLINE)
    return min(max(ttl, MIN_TTL), base)


def minutes_until_working(mask: int, now: datetime) -> int:
    """Minutes from `now` to the start of the next working slot in a week mask
    (`availability.week_mask` for the week of `now`); 0 while working, the week's
    length if the mask is empty."""
    monday = datetime.combine(week_start(now), datetime.min.time(), tzinfo=UTC)
    elapsed = int((now.astimezone(UTC) - monday).total_seconds() // 60)
    slot = elapsed // SLOT_MINUTES
    for ahead in range(SLOTS_PER_WEEK):
        if mask >> ((slot + ahead) % SLOTS_PER_WEEK) & 1:
            return 0 if ahead == 0 else ahead * SLOT_MINUTES - elapsed % SLOT_MINUTES
    return SLOTS_PER_WEEK * SLOT_MINUTES


def available_soon(minutes: int, pressed: Pressure, ttl: timedelta) -> Component:
    horizon = SOON_HORIZON.total_seconds() / 60
    value = 1.0 - min(minutes, horizon) / horizon
    when = (
        "at work now"
        if minutes == 0
        else f"working hours start in {_hours(timedelta(minutes=minutes))}"
    )
    return Component(
        "available_soon",
        round(SOON_WEIGHT * pressed.level, 6),
        value,
        f"{when}; {pressed.reason}: asked to answer within {_hours(ttl)}",
    )


def favour_sooner(
    ranked: tuple[Scored, ...],
    minutes: dict[str, int],
    pressed: Pressure,
    ttl: timedelta,
) -> tuple[Scored, ...]:
    """Add `available_soon` to each helper of a pressing request and rank again (ties by
    person id); `minutes` is each helper's `minutes_until_working`."""
    if pressed.level <= 0:
        return ranked
    rescored = [
        replace(
            s,
            components=(
                *s.components,
                available_soon(minutes.get(s.candidate.person_id, 0), pressed, ttl),
            ),
        )
        for s in ranked
    ]
    return tuple(sorted(rescored, key=lambda s: (-s.score, s.candidate.person_id)))
