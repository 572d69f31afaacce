"""Candidate pairs come from the matching engine: same scores, same breakdowns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import NOW, person
from peerloop_matching.domain.engine import Need, find_helpers
from peerloop_matching.domain.programmes.candidates import (
    Mentee,
    candidate_pairs,
    explain_pair,
)
from peerloop_matching.domain.programmes.rules import Org, PairingRules, Person, conflict
from peerloop_matching.domain.programmes.solver import Problem, solve
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.skill_index import SkillIndex

WEIGHTS = Weights()
MENTORS = [
    person("boss", level=5, team="eng", rating=(25, 5)),
    person("star", level=5, team="ops", rating=(25, 5)),
    person("good", level=4, team="ops", tz="Europe/Berlin"),
    person("fine", level=3, team="eng", tz="Asia/Tokyo"),
    person("report", level=5, team="eng", rating=(20, 5)),
    person("rusty", level=1, team="ops"),
]
ORG = Org.of(
    [
        Person("boss", "eng"),
        Person("ann", "eng", "boss"),
        Person("report", "eng", "ann"),
        Person("star", "ops"),
        Person("good", "ops"),
        Person("fine", "eng"),
        Person("rusty", "ops"),
        Person("bob", "ops"),
    ],
    not_again=[("bob", "star")],
)
ANN = Mentee("ann", "python", 3, team="eng")
ANN_EXPERT = Mentee("ann", "python", 5, team="eng")
BOB = Mentee("bob", "python", 2, team="ops", time_zone="America/New_York")


def _index() -> SkillIndex:
    index = SkillIndex(weights=WEIGHTS)
    for p in MENTORS:
        index.put(p)
    return index


def _pairs(mentees, rules=None, top_k=10, mentors=None):
    found = candidate_pairs(
        mentees,
        _index(),
        weights=WEIGHTS,
        now=NOW,
        top_k=top_k,
        org=ORG,
        rules=rules or PairingRules(),
        mentors=mentors,
    )
    table = {
        (found.pairs.mentees[a], found.pairs.mentors[b]): s
        for a, b, s in zip(found.pairs.mentee, found.pairs.mentor, found.pairs.score, strict=True)
    }
    return found, table


def test_scores_are_those_of_one_off_matching():
    _, table = _pairs([ANN, BOB], rules=PairingRules(allow_reporting_line=True))
    for mentee in (ANN, BOB):
        need = Need(mentee.skill_id, mentee.desired_level, mentee.requester(NOW))
        one_off = find_helpers(need, _index(), weights=WEIGHTS, now=NOW)
        expected = {
            s.candidate.person_id: s.score
            for s in one_off.ranked
            if not (mentee is BOB and s.candidate.person_id == "star")  # asked not again
        }
        assert {b: s for (a, b), s in table.items() if a == mentee.person_id} == expected


def test_a_pair_is_explained_as_one_off_matching_explains_it():
    need = Need(BOB.skill_id, BOB.desired_level, BOB.requester(NOW))
    one_off = {
        s.candidate.person_id: s
        for s in find_helpers(need, _index(), weights=WEIGHTS, now=NOW).ranked
    }
    for mentor in MENTORS:
        if mentor.person_id in one_off:
            assert (
                explain_pair(BOB, mentor, "python", weights=WEIGHTS, now=NOW)
                == one_off[mentor.person_id]
            )


@pytest.mark.parametrize(
    ("rules", "ann_gets"),
    [
        # ann's manager (boss) and her own report are never proposed, nor rusty (level 1).
        (PairingRules(), {"star", "good", "fine"}),
        (PairingRules(allow_reporting_line=True), {"boss", "report", "star", "good", "fine"}),
        (PairingRules(team="same_team"), {"fine"}),
        (PairingRules(team="other_team"), {"star", "good"}),
    ],
)
def test_the_rules_shape_the_candidates(rules, ann_gets):
    _, table = _pairs([ANN], rules=rules)
    assert {b for (_a, b) in table} == ann_gets


def test_top_k_keeps_the_best():
    _, everyone = _pairs([BOB])
    _, best_two = _pairs([BOB], top_k=2)
    assert set(best_two) == set(sorted(everyone, key=everyone.get, reverse=True)[:2])


def test_an_opted_in_pool_limits_the_mentors():
    _, table = _pairs([BOB], mentors=["good", "fine", "nobody"])
    assert {b for (_a, b) in table} == {"good", "fine"}


@pytest.mark.parametrize(
    ("mentee", "rules", "mentors", "reason"),
    [
        (Mentee("cat", "rust", 1, team="eng"), PairingRules(), None, "no_candidate"),
        # The level-5 offerers of ann's team are her manager and her own report.
        (ANN_EXPERT, PairingRules(team="same_team"), None, "excluded_by_rules"),
        # The only mentor in the pool is someone bob asked not to see again.
        (BOB, PairingRules(), ["star"], "excluded_by_rules"),
    ],
)
def test_mentees_without_candidates_say_why(mentee, rules, mentors, reason):
    found, table = _pairs([mentee], rules=rules, mentors=mentors)
    assert not table
    assert found.pairs.mentees == (mentee.person_id,)
    assert found.reasons[mentee.person_id][0] == reason


@st.composite
def organisations(draw):
    """Up to 12 people with random managers (cycles included), teams and levels."""
    n = draw(st.integers(2, 12))
    ids = [f"p{i}" for i in range(n)]
    people = [
        Person(pid, draw(st.sampled_from(["eng", "ops"])), draw(st.sampled_from([None, *ids])))
        for pid in ids
    ]
    mentors = [
        person(pid, level=draw(st.integers(1, 5)), team=p.team)
        for pid, p in zip(ids, people, strict=True)
        if draw(st.booleans())
    ]
    capacity = {m.person_id: draw(st.integers(0, 2)) for m in mentors}
    return Org.of(people), mentors, capacity


@settings(max_examples=60, deadline=None)
@given(organisations(), st.sampled_from(["any", "same_team", "other_team"]))
def test_a_whole_programme_never_pairs_a_reporting_line_nor_overfills(world, team_rule):
    org, mentors, capacity = world
    index = SkillIndex(weights=WEIGHTS)
    for m in mentors:
        index.put(m)
    cohort = [Mentee(p.person_id, "python", 1, team=p.team) for p in org.people.values()]
    rules = PairingRules(team=team_rule)
    found = candidate_pairs(cohort, index, weights=WEIGHTS, now=NOW, top_k=3, org=org, rules=rules)
    problem = Problem(found.pairs, capacity, reasons=found.reasons)
    assignment = solve(problem)
    for match in assignment.matches:
        assert conflict(match.mentee_id, match.mentor_id, org, rules) is None
        chain = org.managers(match.mentee_id)
        assert match.mentor_id not in chain
        assert match.mentee_id not in org.managers(match.mentor_id)
    for mentor, load in assignment.loads().items():
        assert load <= capacity[mentor]
    placed = {m.mentee_id for m in assignment.matches} | {
        u.mentee_id for u in assignment.unassigned
    }
    assert placed == set(org.people)


def test_same_team_only_keeps_to_the_opted_in_pool():
    _, table = _pairs(
        [ANN], rules=PairingRules(team="same_team", allow_reporting_line=True), mentors=["fine"]
    )
    assert {b for (_a, b) in table} == {"fine"}
