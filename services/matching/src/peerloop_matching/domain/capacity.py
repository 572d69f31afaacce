"""Whether a helper can take one more request: the capacity decision, free of any store.

A helper's load is the reservations they hold: one per pending proposal (until it
expires) and one per accepted session. Stores call these functions inside their
conditional updates, so the decision is the same whichever store holds the helper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peerloop_matching.domain.candidate import Candidate, Reservation

KEEP_SESSIONS_FOR = timedelta(weeks=8)
"""Sessions older than this no longer weigh on fair load, so their reservations are dropped."""


def can_take(candidate: Candidate, skill_id: str, now: datetime) -> bool:
    """A helper takes a request if they offer to teach the skill, are not away today,
    and have room this week both for that skill and across all their skills."""
    offer = candidate.offers.get(skill_id)
    return (
        offer is not None
        and offer.willing_to_teach
        and not candidate.is_away(now.date())
        and candidate.has_capacity(skill_id, now)
    )


def still_held(reservations: Iterable[Reservation], now: datetime) -> list[Reservation]:
    """Reservations worth keeping: live pending ones and sessions of recent weeks."""
    return [
        r
        for r in reservations
        if (r.kind == "pending" and r.holds(now))
        or (r.kind == "session" and r.created_at >= now - KEEP_SESSIONS_FOR)
    ]


@dataclass(frozen=True)
class Take:
    """The verdict on holding a proposal's reservation."""

    held: bool
    """Whether the helper holds it afterwards."""
    reservations: tuple[Reservation, ...] | None = None
    """What to store, or None when nothing changes (refused, or already held)."""


def take(candidate: Candidate, reservation: Reservation, now: datetime) -> Take:
    """Hold one unit of capacity for a proposal if the helper can take it.

    Holding the same proposal twice is one reservation: a retried reserve succeeds
    without counting it again. Expired and old reservations are dropped on the way.
    """
    kept = still_held(candidate.reservations, now)
    if any(r.proposal_id == reservation.proposal_id for r in kept):
        return Take(held=True)
    if not can_take(candidate, reservation.skill_id, now):
        return Take(held=False)
    return Take(held=True, reservations=(*kept, reservation))
