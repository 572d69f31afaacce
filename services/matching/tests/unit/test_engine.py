"""Who is a candidate, in which order, and why nobody is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import NOW, TODAY, held, person, requester
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Candidate, Evidence, Hours, Offer
from peerloop_matching.domain.engine import Need, find_helpers, rank_all
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.skill_index import SkillIndex

WEIGHTS = Weights()


def _need(skill="python", level=3, tried=frozenset()) -> Need:
    return Need(skill_id=skill, desired_level=level, requester=requester(), tried=tried)


def _index(people: list[Candidate], related=(), weights: Weights = WEIGHTS) -> SkillIndex:
    index = SkillIndex(related=lambda s: related if s == "python" else (), weights=weights)
    for p in people:
        index.put(p)
    return index


def _rank(people: list[Candidate], need: Need | None = None, related=(), limit: int = 20):
    index = _index(people, related)
    return find_helpers(need or _need(), index, weights=WEIGHTS, now=NOW, limit=limit)


@pytest.mark.parametrize(
    ("candidate", "eligible"),
    [
        (person("h1"), True),
        (person("req"), False),  # the requester never helps themselves
        (person("h1", level=2), False),  # below the level needed
        (person("h1", willing=False), False),
        (person("h1", away=((TODAY, TODAY + timedelta(days=3)),)), False),
        (person("h1", away=((TODAY + timedelta(days=1), TODAY + timedelta(days=3)),)), True),
        (person("h1", capacity=0), False),
        (person("h1", capacity=1, reservations=(held("x"),)), False),  # pending holds capacity
        (person("h1", capacity=1, reservations=(held("x", kind="session"),)), False),
        (person("h1", capacity=1, reservations=(held("x", expires_in=-timedelta(1)),)), True),
        (person("h1", capacity=1, reservations=(held("x", skill="go"),)), True),  # other skill
        (person("h1", capacity=1, reservations=(held("x", week="2026-W01"),)), True),
        (person("h1", capacity=5, weekly=1, reservations=(held("x", skill="go"),)), False),
        (person("h1", skill="django"), True),  # related skill
        (person("h1", skill="go"), False),  # unrelated skill
    ],
)
def test_eligibility(candidate, eligible):
    outcome = _rank([candidate], related=("django",))
    assert bool(outcome.ranked) is eligible


def test_already_asked_helpers_are_not_candidates_again():
    outcome = _rank([person("h1"), person("h2")], _need(tried=frozenset({"h1"})))
    assert [s.candidate.person_id for s in outcome.ranked] == ["h2"]


def test_exact_skill_ranks_above_a_related_one_all_else_equal():
    outcome = _rank([person("a", skill="django"), person("b")], related=("django",))
    assert [s.candidate.person_id for s in outcome.ranked] == ["b", "a"]
    assert outcome.ranked[1].skill_id == "django"


def test_someone_offering_both_is_scored_on_the_better_fit():
    both = person("a", skill="django", extra_offers=(Offer("python", 4, True, 2),))
    outcome = _rank([both], related=("django",))
    assert [(s.candidate.person_id, s.skill_id) for s in outcome.ranked] == [("a", "python")]


def test_cross_team_bonus_breaks_silos():
    outcome = _rank([person("same", team="billing"), person("other", team="payments")])
    assert outcome.ranked[0].candidate.person_id == "other"


def test_ties_are_broken_by_id_so_the_order_is_stable():
    outcome = _rank([person("b"), person("a"), person("c")])
    assert [s.candidate.person_id for s in outcome.ranked] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("people", "tried", "reason"),
    [
        ([], frozenset(), "no_one_offers"),
        ([person("req")], frozenset(), "no_one_offers"),
        ([person("h1", level=1)], frozenset(), "no_one_offers"),
        ([person("h1", capacity=0)], frozenset(), "all_at_capacity"),
        ([person("h1", away=((TODAY, TODAY),))], frozenset(), "all_at_capacity"),
        ([person("h1")], frozenset({"h1"}), "all_declined"),
        ([person("h1"), person("h2", capacity=0)], frozenset({"h1"}), "all_at_capacity"),
    ],
)
def test_why_nobody_can_help(people, tried, reason):
    outcome = _rank(people, _need(tried=tried))
    assert outcome.ranked == ()
    assert outcome.unmatched_reason == reason
    assert outcome.detail


# -- properties ------------------------------------------------------------------------------

people_ids = st.sampled_from([f"p{i}" for i in range(12)] + ["req"])


@st.composite
def crowds(draw: st.DrawFn) -> list[Candidate]:
    crowd = {}
    for pid in draw(st.lists(people_ids, max_size=12, unique=True)):
        capacity = draw(st.integers(0, 3))
        pending = draw(st.integers(0, 3))
        crowd[pid] = person(
            pid,
            skill=draw(st.sampled_from(["python", "django", "go"])),
            level=draw(st.integers(1, 5)),
            willing=draw(st.booleans()),
            capacity=capacity,
            team=draw(st.sampled_from(["a", "b", "billing"])),
            reservations=tuple(held(f"{pid}-{n}") for n in range(pending)),
            rating=(draw(st.integers(0, 50)), draw(st.integers(0, 10))),
        )
    return list(crowd.values())


@settings(max_examples=200, deadline=None)
@given(crowd=crowds(), level=st.integers(1, 5), tried=st.frozensets(people_ids, max_size=6))
def test_never_proposes_the_requester_or_anyone_over_capacity_or_already_asked(crowd, level, tried):
    outcome = _rank(crowd, _need(level=level, tried=tried), related=("django",))
    for scored in outcome.ranked:
        c = scored.candidate
        assert c.person_id != "req"
        assert c.person_id not in tried
        assert c.load_this_week(NOW, scored.skill_id) < c.offers[scored.skill_id].weekly_capacity
        assert c.offers[scored.skill_id].level >= level
    assert (outcome.unmatched_reason is None) == bool(outcome.ranked)


@settings(max_examples=100, deadline=None)
@given(crowd=crowds(), declines=st.integers(0, 15))
def test_a_declined_helper_is_never_reproposed_for_the_same_request(crowd, declines):
    asked: list[str] = []
    for _ in range(declines + 1):
        outcome = _rank(crowd, _need(level=1, tried=frozenset(asked)), related=("django",))
        if not outcome.ranked:
            assert outcome.unmatched_reason in {"no_one_offers", "all_declined", "all_at_capacity"}
            break
        asked.append(outcome.ranked[0].candidate.person_id)
    assert len(asked) == len(set(asked))


@settings(max_examples=100, deadline=None)
@given(crowd=crowds())
def test_ranking_is_best_first(crowd):
    scores = [s.score for s in _rank(crowd, _need(level=1), related=("django",)).ranked]
    assert scores == sorted(scores, reverse=True)


@st.composite
def lookalike_crowds(draw: st.DrawFn) -> list[Candidate]:
    """Few distinct values, so many exact ties: the hard case for stopping a bucket early."""
    crowd = []
    for n in range(draw(st.integers(0, 40))):
        sessions = draw(st.integers(0, 2))
        crowd.append(
            person(
                f"p{n:02d}",
                skill=draw(st.sampled_from(["python", "python", "django"])),
                level=draw(st.integers(3, 5)),
                capacity=draw(st.integers(0, 4)),
                team=draw(st.sampled_from(["billing", "b"])),
                tz=draw(st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York"])),
                reservations=tuple(held(f"p{n}-{k}", kind="session") for k in range(sessions)),
                rating=draw(st.sampled_from([(0, 0), (5, 1), (8, 2), (40, 10)])),
                partners=("req",) * draw(st.integers(0, 1)),
            )
        )
    return crowd


@settings(max_examples=300, deadline=None)
@given(
    crowd=st.one_of(crowds(), lookalike_crowds()),
    level=st.integers(1, 5),
    limit=st.integers(1, 6),
    weights=st.sampled_from(
        [
            WEIGHTS,
            Weights(cross_team=0.0),
            Weights(reputation=0.6, fair_load=0.0),
            Weights(hours_overlap=-0.1, repeat_pairing=0.2),
            Weights(level_margin=-0.2),
        ]
    ),
)
def test_stopping_early_gives_exactly_the_answer_of_scoring_everyone(crowd, level, limit, weights):
    index = _index(crowd, related=("django",), weights=weights)
    need = Need(
        skill_id="python",
        desired_level=level,
        requester=requester(mask=week_mask("UTC", Hours(), week_start(NOW))),
    )
    fast = find_helpers(need, index, weights=weights, now=NOW, limit=limit)
    full = rank_all(need, index.offerers("python"), weights=weights, now=NOW, limit=limit)
    assert [(s.candidate.person_id, s.skill_id, s.score) for s in fast.ranked] == [
        (s.candidate.person_id, s.skill_id, s.score) for s in full.ranked
    ]
    assert (fast.unmatched_reason, fast.detail) == (full.unmatched_reason, full.detail)


def test_standings_are_refreshed_when_the_week_turns():
    busy = person("a", reservations=tuple(held(f"s{i}", kind="session") for i in range(4)))
    index = _index([busy, person("b", team="billing")])
    assert _first(index, NOW) == "b"  # a's recent sessions outweigh b's same-team penalty
    # Five weeks on, a's sessions have left the window: a ranks first again.
    assert _first(index, NOW + timedelta(weeks=5)) == "a"


def _first(index: SkillIndex, now) -> str:
    outcome = find_helpers(_need(), index, weights=WEIGHTS, now=now, limit=1)
    return outcome.ranked[0].candidate.person_id


@settings(max_examples=200, deadline=None)
@given(
    crowd=lookalike_crowds(),
    scores=st.lists(st.sampled_from([0.0, 0.5, 2.5, 10.0]), min_size=40, max_size=40),
    limit=st.integers(1, 6),
)
def test_stopping_early_is_exact_with_an_evidence_weight(crowd, scores, limit):
    """Evidence is per offered skill, outside the standing a bucket is sorted by: the bound
    must leave room for it, or an evidenced helper low in a bucket would be missed."""
    weights = Weights(evidence=0.4)
    crowd = [
        replace(
            c,
            evidence={
                s: Evidence(score=scores[n], as_of=NOW, half_life_days=365) for s in c.offers
            },
        )
        for n, c in enumerate(crowd)
    ]
    index = _index(crowd, related=("django",), weights=weights)
    need = Need(
        skill_id="python",
        desired_level=3,
        requester=requester(mask=week_mask("UTC", Hours(), week_start(NOW))),
    )
    fast = find_helpers(need, index, weights=weights, now=NOW, limit=limit)
    full = rank_all(need, index.offerers("python"), weights=weights, now=NOW, limit=limit)
    assert [(s.candidate.person_id, s.score) for s in fast.ranked] == [
        (s.candidate.person_id, s.score) for s in full.ranked
    ]
