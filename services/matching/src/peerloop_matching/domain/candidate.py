"""A person as matching sees them: what they can teach, when, and how loaded they are."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

ReservationKind = Literal["pending", "session"]


@dataclass(frozen=True)
class Offer:
    skill_id: str
    level: int
    willing_to_teach: bool
    weekly_capacity: int
    description: str = ""
    """The helper's own words about what they offer (compared with a request's task)."""


@dataclass(frozen=True)
class Evidence:
    """What profiles says the person has shown of a skill (`skill-evidence-changed`)."""

    score: float
    as_of: datetime
    half_life_days: float
    sessions_taught: int = 0
    endorsements: int = 0

    def score_at(self, now: datetime) -> float:
        """Every item ages alike, so the published sum halves per half-life too."""
        age = max((now - self.as_of).total_seconds(), 0.0)
        return self.score * math.pow(0.5, age / (self.half_life_days * 86_400))


@dataclass(frozen=True)
class Hours:
    """Local working hours: minutes after midnight and ISO weekdays."""

    start: int = 9 * 60
    end: int = 17 * 60
    days: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Reservation:
    """One unit of a helper's weekly capacity held by a proposal or a session."""

    proposal_id: str
    request_id: str
    skill_id: str
    week: str
    kind: ReservationKind
    created_at: datetime
    expires_at: datetime | None = None
    holder: str = ""
    """Who made it (one token per attempt to propose): two replicas proposing one request at
    once name the same proposal, and the one whose save loses must release only its own."""

    def holds(self, now: datetime) -> bool:
        """A pending reservation stops counting once its proposal expired, even if a crash
        prevented its release, so a lost release can never block a helper for good."""
        return self.kind == "session" or (self.expires_at is not None and self.expires_at > now)


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


RECENT_WEEKS = 4


@lru_cache(maxsize=64)  # one `now` scores thousands of candidates: compute its weeks once
def recent_weeks(now: datetime) -> frozenset[str]:
    """This ISO week and the three before it: the window fair load looks at."""
    return frozenset(iso_week(now - timedelta(weeks=k)) for k in range(RECENT_WEEKS))


@dataclass(frozen=True)
class Candidate:
    person_id: str
    team: str = ""
    manager_id: str | None = None
    """Whom they report to (the organisation's rules keep a reporting line apart)."""
    time_zone: str = "UTC"
    hours: Hours = field(default_factory=Hours)
    weekly_capacity: int | None = None
    """All skills together; None until availability is known (only per-skill limits apply)."""
    away: tuple[tuple[date, date], ...] = ()
    paused_until: date | None = None
    """The person paused all proposals up to and including this day."""
    offers: dict[str, Offer] = field(default_factory=dict)
    rating_sum: int = 0
    rating_count: int = 0
    reservations: tuple[Reservation, ...] = ()
    partners: tuple[str, ...] = ()
    """Learners this person has had accepted sessions with, one entry per session."""
    evidence: dict[str, Evidence] = field(default_factory=dict)
    """Per skill, the evidence profiles published (sessions taught, endorsements …)."""

    def is_away(self, day: date) -> bool:
        """Away, or proposals paused: either way nobody is proposed to them on `day`."""
        if self.paused_until is not None and day <= self.paused_until:
            return True
        return bool(self.away) and any(start <= day <= end for start, end in self.away)

    def load_this_week(
        self, now: datetime, skill_id: str | None = None, *, week: str | None = None
    ) -> int:
        week = week or iso_week(now)
        return sum(
            1
            for r in self.reservations
            if r.week == week and r.holds(now) and (skill_id is None or r.skill_id == skill_id)
        )

    def has_capacity(self, skill_id: str, now: datetime, *, week: str | None = None) -> bool:
        offer = self.offers.get(skill_id)
        if offer is None or offer.weekly_capacity <= 0:
            return False
        if not self.reservations:
            return self.weekly_capacity is None or self.weekly_capacity > 0
        week = week or iso_week(now)
        if self.load_this_week(now, skill_id, week=week) >= offer.weekly_capacity:
            return False
        return self.weekly_capacity is None or self.load_this_week(now, week=week) < (
            self.weekly_capacity
        )

    def recent_sessions(self, weeks: frozenset[str]) -> int:
        if not self.reservations:
            return 0
        return sum(1 for r in self.reservations if r.kind == "session" and r.week in weeks)

    def pairings_with(self, person_id: str) -> int:
        return self.partners.count(person_id) if self.partners else 0
