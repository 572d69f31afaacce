"""Rules of a request that waits for a helper: why it waits, until when, who wakes it.

A request nobody can take right now waits instead of ending: it ends unmatched only
at its `needed_by`, or after the longest wait counted from when it was asked, so
waiting again after a decline never extends it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from peerloop_contracts.matching import UnmatchedReason, WaitingReason

from peerloop_matching.domain.candidate import Candidate

_ENDS_AS: dict[WaitingReason, UnmatchedReason] = {
    "no_one_offers": "no_one_offers",
    "all_at_capacity": "all_at_capacity",
    "all_away": "all_at_capacity",
    "all_declined": "all_declined",
}


def unmatched_reason(reason: WaitingReason) -> UnmatchedReason:
    """The reason a wait ends with (`help-request-unmatched` knows no `all_away`)."""
    return _ENDS_AS[reason]


def waiting_reason(reason: UnmatchedReason, *, unavailable: int, away: int) -> WaitingReason:
    """Why nobody can take it now: `all_away` when every possible helper left is away.

    `unavailable` counts the possible helpers not asked yet (away or at capacity).
    """
    if reason == "all_at_capacity" and unavailable > 0 and away >= unavailable:
        return "all_away"
    return reason


def wait_until(created_at: datetime, needed_by: datetime | None, longest: timedelta) -> datetime:
    """When a waiting request ends: its deadline, or the longest wait, whichever is first."""
    last = created_at + longest
    return last if needed_by is None or needed_by > last else needed_by


def can_help_now(candidate: Candidate, today: date, now: datetime) -> bool:
    """Whether a change to this person could make them the helper a waiting request needs."""
    return not candidate.is_away(today) and any(
        offer.willing_to_teach and candidate.has_capacity(skill_id, now)
        for skill_id, offer in candidate.offers.items()
    )


def skills_to_wake(
    candidate: Candidate, related: Callable[[str], Iterable[str]]
) -> tuple[str, ...]:
    """The requested skills a person's offers can serve: each offer and its related skills."""
    skills: set[str] = set()
    for skill_id, offer in candidate.offers.items():
        if offer.willing_to_teach:
            skills.add(skill_id)
            skills.update(related(skill_id))
    return tuple(sorted(skills))
