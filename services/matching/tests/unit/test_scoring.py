"""Every scoring rule, one table each."""

from __future__ import annotations

import pytest
from matching_builders import NOW, held, person, requester
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.scoring import Scored, Weights, score

WEIGHTS = Weights()
UTC_MASK = week_mask("UTC", Hours(), week_start(NOW))


def _score(
    candidate, *, offered="python", requested="python", desired=3, req=None, mask=None
) -> Scored:
    return score(
        candidate,
        offered_skill=offered,
        requested_skill=requested,
        desired_level=desired,
        requester=req or requester(mask=UTC_MASK),
        helper_mask=UTC_MASK if mask is None else mask,
        weights=WEIGHTS,
        now=NOW,
    )


def _value(scored: Scored, name: str) -> float:
    return next(c.value for c in scored.components if c.name == name)


@pytest.mark.parametrize(
    ("offered", "requested", "expected"),
    [("python", "python", 1.0), ("django", "python", 0.5)],
)
def test_skill_fit_exact_beats_related(offered, requested, expected):
    scored = _score(person(skill=offered), offered=offered, requested=requested)
    assert _value(scored, "skill_fit") == expected


@pytest.mark.parametrize(
    ("level", "desired", "expected"),
    [(3, 3, 0.0), (4, 3, 0.5), (5, 3, 1.0), (5, 1, 1.0)],
)
def test_level_margin_grows_up_to_the_cap(level, desired, expected):
    assert _value(_score(person(level=level), desired=desired), "level_margin") == expected


@pytest.mark.parametrize(
    ("tz", "expected"),
    [("UTC", 1.0), ("Europe/London", 1.0), ("Asia/Tokyo", 0.0), ("America/Sao_Paulo", 0.625)],
)
def test_hours_overlap_with_the_requester(tz, expected):
    # December: London is on UTC, Tokyo is 9 h ahead (no overlap), São Paulo 3 h behind.
    mask = week_mask(tz, Hours(), week_start(NOW))
    assert _value(_score(person(tz=tz), mask=mask), "hours_overlap") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sessions", "expected"),
    [(0, 1.0), (1, 0.75), (2, 0.5), (4, 0.0), (7, 0.0)],
)
def test_fair_load_prefers_people_who_helped_less_recently(sessions, expected):
    reservations = tuple(held(f"s{i}", kind="session") for i in range(sessions))
    assert _value(_score(person(reservations=reservations)), "fair_load") == expected


def test_fair_load_forgets_sessions_older_than_four_iso_weeks():
    from datetime import timedelta

    from peerloop_matching.domain.candidate import iso_week

    three_back = held("s-3", kind="session", week=iso_week(NOW - timedelta(weeks=3)))
    four_back = held("s-4", kind="session", week=iso_week(NOW - timedelta(weeks=4)))
    assert _value(_score(person(reservations=(three_back, four_back))), "fair_load") == 0.75


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [((0, 0), 0.75), ((1, 1), 0.625), ((5, 1), 0.7917), ((50, 10), 0.9167), ((10, 10), 0.25)],
)
def test_reputation_is_smoothed_so_one_review_does_not_dominate(ratings, expected):
    assert _value(_score(person(rating=ratings)), "reputation") == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("helper_team", "requester_team", "expected"),
    [("payments", "billing", 1.0), ("billing", "billing", 0.0), ("", "billing", 0.0)],
)
def test_cross_team_bonus(helper_team, requester_team, expected):
    scored = _score(person(team=helper_team), req=requester(team=requester_team, mask=UTC_MASK))
    assert _value(scored, "cross_team") == expected


@pytest.mark.parametrize(
    ("partners", "expected"),
    [((), 0.0), (("req",), 1 / 3), (("req", "other", "req"), 2 / 3), (("req",) * 5, 1.0)],
)
def test_repeat_pairing_is_penalised(partners, expected):
    scored = _score(person(partners=partners))
    component = next(c for c in scored.components if c.name == "repeat_pairing")
    assert component.value == pytest.approx(expected)
    assert component.contribution <= 0


def test_score_is_the_sum_of_contributions_and_every_component_explains_itself():
    scored = _score(person(level=5, team="payments", rating=(9, 2)))
    assert scored.score == pytest.approx(sum(c.weight * c.value for c in scored.components))
    assert {c.name for c in scored.components} == {
        "skill_fit",
        "level_margin",
        "hours_overlap",
        "fair_load",
        "reputation",
        "cross_team",
        "repeat_pairing",
        "evidence",
    }
    assert all(c.explanation for c in scored.components)


def test_weights_come_from_configuration():
    heavy_team = Weights(cross_team=5.0)
    same = score(
        person(team="billing"),
        offered_skill="python",
        requested_skill="python",
        desired_level=3,
        requester=requester(team="billing", mask=UTC_MASK),
        helper_mask=UTC_MASK,
        weights=heavy_team,
        now=NOW,
    )
    other = score(
        person(team="payments"),
        offered_skill="python",
        requested_skill="python",
        desired_level=3,
        requester=requester(team="billing", mask=UTC_MASK),
        helper_mask=UTC_MASK,
        weights=heavy_team,
        now=NOW,
    )
    assert other.score - same.score == pytest.approx(5.0)
