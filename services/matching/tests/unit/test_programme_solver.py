"""The programme solver: optimal, within capacities, and honouring every option."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from peerloop_matching.domain.programmes.pairs import Pairs
from peerloop_matching.domain.programmes.solver import (
    Assignment,
    Options,
    Problem,
    resolve_declined,
    solve,
)


@dataclass(frozen=True)
class Tiny:
    rows: tuple[tuple[str, str, float], ...]
    capacity: dict[str, int]
    teams: dict[str, str]

    def problem(self, **kw) -> Problem:
        mentees = sorted({r[0] for r in self.rows})
        return Problem(
            Pairs.of(self.rows, mentees=mentees),
            self.capacity,
            teams=self.teams,
            **kw,
        )


@st.composite
def tiny(draw, mentees: int = 5, mentors: int = 3) -> Tiny:
    n = draw(st.integers(1, mentees))
    m = draw(st.integers(1, mentors))
    rows = []
    for a in range(n):
        for b in range(m):
            if draw(st.booleans()):
                # Whole hundredths, so sums compare exactly after the solver's scaling.
                rows.append((f"e{a}", f"r{b}", draw(st.integers(-10, 100)) / 100))
    capacity = {f"r{b}": draw(st.integers(0, 2)) for b in range(m)}
    teams = {f"e{a}": draw(st.sampled_from(["red", "blue"])) for a in range(n)}
    return Tiny(tuple(rows), capacity, teams)


def brute_force(t: Tiny, per_team: int | None = None, floor: float | None = None):
    """Every assignment, best by (mentees paired, sum of scores), and the best worst score
    among those pairing the most."""
    options: dict[str, list[tuple[str, float] | None]] = {}
    for mentee, mentor, score in t.rows:
        if floor is None or score >= floor:
            options.setdefault(mentee, [None]).append((mentor, score))
    mentees = sorted(options)
    best_key = (0, 0.0)
    most = 0
    best_worst = None
    for choice in itertools.product(*(options[m] for m in mentees)):
        load = Counter(c[0] for c in choice if c)
        team_load = Counter((c[0], t.teams[m]) for m, c in zip(mentees, choice, strict=True) if c)
        if any(load[b] > t.capacity.get(b, 0) for b in load):
            continue
        if per_team is not None and any(v > per_team for v in team_load.values()):
            continue
        paired = [c[1] for c in choice if c]
        key = (len(paired), round(sum(paired), 6))
        best_key = max(best_key, key)
        if len(paired) > most:
            most, best_worst = len(paired), min(paired)
        elif len(paired) == most and paired:
            best_worst = max(best_worst, min(paired))
    return best_key, best_worst


def key(a: Assignment) -> tuple[int, float]:
    return len(a.matches), round(a.total, 6)


def assert_within_capacity(problem: Problem, a: Assignment) -> None:
    for mentor, load in a.loads().items():
        assert load <= problem.capacity_of(mentor)


@settings(max_examples=150, deadline=None)
@given(tiny())
def test_the_solver_equals_the_exhaustive_optimum(t):
    problem = t.problem()
    found = solve(problem)
    assert key(found) == brute_force(t)[0]
    assert_within_capacity(problem, found)
    assert len({m.mentee_id for m in found.matches}) == len(found.matches)


@settings(max_examples=100, deadline=None)
@given(tiny(), st.integers(1, 2))
def test_the_diversity_bound_is_optimal_and_honoured(t, per_team):
    problem = t.problem(options=Options(per_team=per_team))
    found = solve(problem)
    assert key(found) == brute_force(t, per_team=per_team)[0]
    per = Counter((m.mentor_id, t.teams[m.mentee_id]) for m in found.matches)
    assert max(per.values(), default=0) <= per_team


@settings(max_examples=100, deadline=None)
@given(tiny())
def test_fairness_reaches_the_best_worst_score_without_pairing_fewer(t):
    plain = solve(t.problem())
    fair = solve(t.problem(options=Options(fairness=True)))
    (most, _), best_worst = brute_force(t)
    assert len(fair.matches) == most
    if most:
        assert min(m.score for m in fair.matches) == best_worst
        assert fair.floor == best_worst
        assert min(m.score for m in fair.matches) >= min(m.score for m in plain.matches)
    assert fair.total <= plain.total + 1e-9


def test_fairness_gives_up_sum_to_lift_the_worst_off():
    # Max-sum gives ann the star (0.9 + 0.1 = 1.0); fairness gives bob the star (0.5 + 0.45).
    rows = (("ann", "star", 0.9), ("ann", "ok", 0.5), ("bob", "star", 0.45), ("bob", "ok", 0.1))
    t = Tiny(rows, {"star": 1, "ok": 1}, {})
    plain, fair = solve(t.problem()), solve(t.problem(options=Options(fairness=True)))
    assert {m.mentee_id: m.mentor_id for m in plain.matches} == {"ann": "star", "bob": "ok"}
    assert {m.mentee_id: m.mentor_id for m in fair.matches} == {"ann": "ok", "bob": "star"}
    assert min(m.score for m in fair.matches) == 0.45 > min(m.score for m in plain.matches)


@settings(max_examples=100, deadline=None)
@given(tiny(), st.floats(0.0, 0.8))
def test_the_floor_drops_pairs_below_it(t, floor):
    found = solve(t.problem(options=Options(floor=floor)))
    assert all(m.score >= floor for m in found.matches)
    assert key(found) == brute_force(t, floor=floor)[0]


def test_pins_are_kept_and_forbids_never_proposed():
    rows = (("ann", "x", 0.9), ("ann", "y", 0.2), ("bob", "x", 0.8), ("bob", "y", 0.7))
    t = Tiny(rows, {"x": 1, "y": 1}, {})
    assert solve(t.problem()).mentor_of("ann") == "x"
    pinned = solve(t.problem(pins=frozenset({("ann", "y")})))
    assert pinned.mentor_of("ann") == "y"
    assert pinned.mentor_of("bob") == "x"
    assert [m.pinned for m in pinned.matches] == [True, False]
    forbidden = solve(t.problem(forbids=frozenset({("ann", "x"), ("bob", "y")})))
    assert forbidden.mentor_of("ann") == "y"
    assert forbidden.mentor_of("bob") == "x"


@pytest.mark.parametrize(
    ("pins", "forbids", "capacity", "message"),
    [
        ({("ann", "x")}, {("ann", "x")}, 1, "both pinned and forbidden"),
        ({("ann", "x"), ("ann", "y")}, set(), 1, "more than one mentor"),
        ({("ann", "z")}, set(), 1, "not a scored candidate pair"),
        ({("ann", "x"), ("bob", "x")}, set(), 1, "more pins than capacity"),
    ],
)
def test_impossible_pins_are_refused(pins, forbids, capacity, message):
    rows = (("ann", "x", 0.9), ("ann", "y", 0.2), ("bob", "x", 0.8))
    problem = Tiny(rows, {"x": capacity, "y": 1}, {}).problem(
        pins=frozenset(pins), forbids=frozenset(forbids)
    )
    with pytest.raises(ValueError, match=message):
        solve(problem)


def test_capacity_overrides_replace_the_capacity():
    rows = tuple((f"e{i}", "x", 0.5) for i in range(4))
    t = Tiny(rows, {"x": 1}, {})
    assert len(solve(t.problem()).matches) == 1
    assert len(solve(t.problem(capacity_overrides={"x": 3})).matches) == 3
    assert len(solve(t.problem(capacity_overrides={"x": 0})).matches) == 0


@pytest.mark.parametrize(
    ("rows", "forbids", "floor", "reasons", "reason"),
    [
        ((("bob", "x", 0.9),), set(), None, {"ann": ("no_candidate", "nobody")}, "no_candidate"),
        (
            (("bob", "x", 0.9),),
            set(),
            None,
            {"ann": ("excluded_by_rules", "manager")},
            "excluded_by_rules",
        ),
        ((("ann", "x", 0.5), ("bob", "x", 0.9)), {("ann", "x")}, None, {}, "forbidden"),
        ((("ann", "x", 0.1), ("bob", "x", 0.9)), set(), 0.3, {}, "below_floor"),
        ((("ann", "x", 0.5), ("bob", "x", 0.9)), set(), None, {}, "candidates_full"),
    ],
)
def test_unassigned_mentees_say_why(rows, forbids, floor, reasons, reason):
    problem = Problem(
        Pairs.of(rows),
        {"x": 1},
        forbids=frozenset(forbids),
        reasons=reasons,
        options=Options(floor=floor),
    )
    found = solve(problem)
    assert found.mentor_of("bob") == "x"
    assert [(u.mentee_id, u.reason) for u in found.unassigned] == [("ann", reason)]


@settings(max_examples=60, deadline=None)
@given(tiny(mentees=8, mentors=4), st.integers(2, 3), st.integers(1, 3))
def test_group_mode_circles_keep_their_size(t, size, minimum):
    problem = t.problem(options=Options(circle_size=size, min_circle=minimum))
    found = solve(problem)
    for circle in found.circles():
        assert minimum <= len(circle.members) <= size
        assert t.capacity[circle.mentor_id] > 0


def test_group_mode_dissolves_a_circle_too_small_and_places_its_member():
    # Without a minimum, lone gets a circle of one around y; with a minimum of 2 that
    # circle is dissolved and lone joins x's circle instead (x has room for three).
    rows = (("a", "x", 0.9), ("b", "x", 0.9), ("lone", "y", 0.8), ("lone", "x", 0.3))
    t = Tiny(rows, {"x": 1, "y": 1}, {})
    loose = solve(t.problem(options=Options(circle_size=3)))
    assert loose.mentor_of("lone") == "y"
    strict = solve(t.problem(options=Options(circle_size=3, min_circle=2)))
    assert [(c.mentor_id, c.members) for c in strict.circles()] == [("x", ("a", "b", "lone"))]


@settings(max_examples=100, deadline=None)
@given(tiny(mentees=6, mentors=4), st.data())
def test_a_decline_moves_only_that_mentee(t, data):
    problem = t.problem()
    before = solve(problem)
    if not before.matches:
        return
    declined = data.draw(st.sampled_from(before.matches))
    after_problem, after = resolve_declined(problem, before, declined.mentee_id, declined.mentor_id)
    others = {m for m in before.matches if m.mentee_id != declined.mentee_id}
    assert others <= set(after.matches)
    assert after.mentor_of(declined.mentee_id) != declined.mentor_id
    assert (declined.mentee_id, declined.mentor_id) in after_problem.forbids
    assert_within_capacity(after_problem, after)
    moved = [m for m in after.matches if m.mentee_id == declined.mentee_id]
    if moved:
        # The best mentor the others left room for.
        loads = Counter(m.mentor_id for m in others)
        open_rows = [
            s
            for e, r, s in t.rows
            if e == declined.mentee_id
            and r != declined.mentor_id
            and loads[r] < t.capacity.get(r, 0)
        ]
        assert moved[0].score == max(open_rows)
    else:
        assert declined.mentee_id in {u.mentee_id for u in after.unassigned}


def test_pins_count_against_the_diversity_bound():
    # ann is pinned to x; bob (same team) may then not join x under one-per-team.
    rows = (("ann", "x", 0.1), ("bob", "x", 0.9), ("bob", "y", 0.2), ("cat", "x", 0.5))
    t = Tiny(rows, {"x": 3, "y": 1}, {"ann": "red", "bob": "red", "cat": "blue"})
    found = solve(t.problem(pins=frozenset({("ann", "x")}), options=Options(per_team=1)))
    assert {m.mentee_id: m.mentor_id for m in found.matches} == {"ann": "x", "bob": "y", "cat": "x"}


def test_a_decline_keeps_the_diversity_bound_and_existing_circles():
    rows = (("ann", "x", 0.9), ("bob", "x", 0.8), ("bob", "y", 0.7), ("bob", "z", 0.1))
    t = Tiny(rows, {"x": 2, "y": 2, "z": 2}, {"ann": "red", "bob": "red"})
    diverse = t.problem(options=Options(per_team=1))
    before = solve(diverse)
    assert before.mentor_of("bob") == "y"
    _, after = resolve_declined(diverse, before, "bob", "y")
    assert after.mentor_of("bob") == "z"  # x already has a mentee of bob's team
    grouped = t.problem(options=Options(circle_size=2, min_circle=2))
    before = solve(grouped)
    assert before.mentor_of("bob") == "x"
    _, after = resolve_declined(grouped, before, "bob", "x")
    # y and z lead no circle: a circle of one would be below the minimum.
    assert after.mentor_of("bob") is None
    assert [(u.mentee_id, u.reason) for u in after.unassigned] == [("bob", "candidates_full")]
