"""Why a request waits, until when, and whose change may wake it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from matching_builders import NOW, TODAY, person
from peerloop_matching.domain.candidate import Offer
from peerloop_matching.domain.waiting import (
    can_help_now,
    skills_to_wake,
    unmatched_reason,
    wait_until,
    waiting_reason,
)

WAIT = timedelta(days=14)


@pytest.mark.parametrize(
    ("reason", "unavailable", "away", "waits_for"),
    [
        ("no_one_offers", 0, 0, "no_one_offers"),
        ("all_declined", 0, 0, "all_declined"),
        ("all_at_capacity", 3, 0, "all_at_capacity"),
        ("all_at_capacity", 3, 1, "all_at_capacity"),  # some are merely booked up
        ("all_at_capacity", 3, 3, "all_away"),
        ("all_at_capacity", 0, 0, "all_at_capacity"),  # reached capacity while being asked
    ],
)
def test_why_a_request_waits(reason, unavailable, away, waits_for):
    assert waiting_reason(reason, unavailable=unavailable, away=away) == waits_for


@pytest.mark.parametrize(
    ("reason", "ends_as"),
    [
        ("no_one_offers", "no_one_offers"),
        ("all_at_capacity", "all_at_capacity"),
        ("all_away", "all_at_capacity"),
        ("all_declined", "all_declined"),
    ],
)
def test_the_reason_a_wait_ends_with(reason, ends_as):
    assert unmatched_reason(reason) == ends_as


@pytest.mark.parametrize(
    ("needed_in", "until"),
    [
        (None, NOW + WAIT),
        (timedelta(days=2), NOW + timedelta(days=2)),
        (timedelta(days=30), NOW + WAIT),
        (-timedelta(hours=1), NOW - timedelta(hours=1)),
    ],
)
def test_a_wait_ends_at_the_deadline_or_the_longest_wait(needed_in, until):
    needed_by = NOW + needed_in if needed_in is not None else None
    assert wait_until(NOW, needed_by, WAIT) == until


@pytest.mark.parametrize(
    ("who", "can"),
    [
        (person("h"), True),
        (person("h", away=((TODAY, TODAY + timedelta(days=1)),)), False),
        (person("h", capacity=0), False),
        (person("h", willing=False), False),  # offers it, but not to teach
    ],
)
def test_only_a_change_to_someone_able_to_help_now_wakes_requests(who, can):
    assert can_help_now(who, TODAY, NOW) is can


def test_a_person_wakes_requests_for_what_they_offer_and_its_related_skills():
    related = {"python": ("django",), "go": ()}
    who = person("h", extra_offers=(Offer("go", 2, True, 1), Offer("rust", 2, False, 1)))
    assert skills_to_wake(who, lambda s: related.get(s, ())) == ("django", "go", "python")
