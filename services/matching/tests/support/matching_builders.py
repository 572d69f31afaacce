"""Small builders so each table row states only what it is about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from peerloop_matching.domain.candidate import Candidate, Hours, Offer, Reservation, iso_week
from peerloop_matching.domain.scoring import Requester

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY: date = NOW.date()


def person(
    person_id: str = "h1",
    *,
    skill: str = "python",
    level: int = 4,
    willing: bool = True,
    capacity: int = 2,
    team: str = "payments",
    tz: str = "UTC",
    weekly: int | None = None,
    away: tuple[tuple[date, date], ...] = (),
    reservations: tuple[Reservation, ...] = (),
    rating: tuple[int, int] = (0, 0),
    partners: tuple[str, ...] = (),
    extra_offers: tuple[Offer, ...] = (),
) -> Candidate:
    offers = {skill: Offer(skill, level, willing, capacity)} | {o.skill_id: o for o in extra_offers}
    return Candidate(
        person_id=person_id,
        team=team,
        time_zone=tz,
        hours=Hours(),
        weekly_capacity=weekly,
        away=away,
        offers=offers,
        rating_sum=rating[0],
        rating_count=rating[1],
        reservations=reservations,
        partners=partners,
    )


def held(
    proposal_id: str,
    *,
    skill: str = "python",
    kind: str = "pending",
    expires_in: timedelta | None = timedelta(hours=1),
    created: datetime = NOW,
    week: str | None = None,
) -> Reservation:
    return Reservation(
        proposal_id=proposal_id,
        request_id=f"r-{proposal_id}",
        skill_id=skill,
        week=week or iso_week(NOW),
        kind="session" if kind == "session" else "pending",
        created_at=created,
        expires_at=None if kind == "session" or expires_in is None else NOW + expires_in,
    )


def requester(person_id: str = "req", team: str = "billing", mask: int = 0) -> Requester:
    return Requester(person_id=person_id, team=team, week_mask=mask)
