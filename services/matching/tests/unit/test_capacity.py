"""Whether a helper can take one more request, and what a reservation keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from matching_builders import NOW, TODAY, held, person
from peerloop_matching.domain.candidate import Candidate, Offer
from peerloop_matching.domain.capacity import KEEP_SESSIONS_FOR, can_take, still_held, take


@pytest.mark.parametrize(
    ("helper", "skill", "takes"),
    [
        (person(), "python", True),
        (person(), "go", False),  # not offered
        (person(willing=False), "python", False),
        (person(capacity=0), "python", False),
        (person(away=((TODAY, TODAY),)), "python", False),
        (person(away=((TODAY + timedelta(days=1), TODAY + timedelta(days=2)),)), "python", True),
        (person(capacity=1, reservations=(held("a"),)), "python", False),  # pending holds
        (person(capacity=1, reservations=(held("a", kind="session"),)), "python", False),
        (person(capacity=1, reservations=(held("a", expires_in=-timedelta(1)),)), "python", True),
        (person(capacity=1, reservations=(held("a", week="2026-W01"),)), "python", True),
        (person(capacity=2, reservations=(held("a"),)), "python", True),
        (person(capacity=1, reservations=(held("a", skill="go"),)), "python", True),
        # The weekly total across skills binds too, and zero means none at all.
        (person(capacity=5, weekly=1, reservations=(held("a", skill="go"),)), "python", False),
        (person(capacity=5, weekly=2, reservations=(held("a", skill="go"),)), "python", True),
        (person(weekly=0), "python", False),
    ],
)
def test_can_take(helper: Candidate, skill: str, takes: bool) -> None:
    assert can_take(helper, skill, NOW) is takes


def test_take_adds_one_reservation_and_drops_what_no_longer_holds() -> None:
    expired = held("old", expires_in=-timedelta(minutes=1))
    stale_session = held("s", kind="session", created=NOW - KEEP_SESSIONS_FOR - timedelta(1))
    recent_session = held("t", kind="session", created=NOW - timedelta(days=3))
    helper = person(capacity=3, reservations=(expired, stale_session, recent_session))
    verdict = take(helper, held("new"), NOW)
    assert verdict.held
    assert [r.proposal_id for r in verdict.reservations or ()] == ["t", "new"]


def test_taking_the_same_proposal_again_holds_it_once_and_writes_nothing() -> None:
    helper = person(capacity=1, reservations=(held("a"),))
    verdict = take(helper, held("a"), NOW)
    assert (verdict.held, verdict.reservations) == (True, None)


def test_a_helper_who_cannot_take_it_is_refused_and_nothing_is_written() -> None:
    verdict = take(person(capacity=1, reservations=(held("a"),)), held("b"), NOW)
    assert (verdict.held, verdict.reservations) == (False, None)


def test_still_held_keeps_live_pending_and_recent_sessions() -> None:
    kept = still_held(
        [
            held("live"),
            held("gone", expires_in=-timedelta(seconds=1)),
            held("s-new", kind="session"),
            held("s-old", kind="session", created=NOW - KEEP_SESSIONS_FOR - timedelta(1)),
        ],
        NOW,
    )
    assert [r.proposal_id for r in kept] == ["live", "s-new"]


def test_a_related_skills_offer_is_its_own() -> None:
    helper = person(extra_offers=(Offer("django", 4, True, 1),))
    assert can_take(helper, "django", NOW)
    assert not can_take(person(extra_offers=(Offer("django", 4, False, 1),)), "django", NOW)
