"""The global assignment of a programme: every mentee at once, within mentor capacities.

It pairs as many mentees as the candidates and capacities allow and, among all such
assignments, maximises the sum of pair scores (a maximum flow of minimum cost, solved
by OR-Tools). Options: pins (must pair), forbids (never pair), capacity overrides,
a score floor, fairness (first raise the worst-off mentee's score as far as it goes,
`fairness`), diversity (at most N mentees of one team per mentor) and group mode
(one circle of at most k around each mentor; circles smaller than a minimum are
dissolved and their members placed again). After a decline, `resolve_declined`
places that one mentee again and leaves every other pair as it was.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from peerloop_matching.domain.programmes.fairness import best_floor
from peerloop_matching.domain.programmes.network import Int64Array, Room, best_rows
from peerloop_matching.domain.programmes.pairs import IntArray, Pairs, UnassignedReason

Pair = tuple[str, str]
"""(mentee id, mentor id)."""


@dataclass(frozen=True)
class Options:
    fairness: bool = False
    """Raise the worst-off mentee's score as far as possible before maximising the sum."""
    floor: float | None = None
    """Never propose a pair scoring below this."""
    per_team: int | None = None
    """Diversity: at most this many mentees of one team per mentor."""
    circle_size: int | None = None
    """Group mode: each mentor leads one circle of at most this many mentees."""
    min_circle: int = 1
    """Group mode: circles smaller than this are dissolved."""


@dataclass(frozen=True)
class Problem:
    pairs: Pairs
    capacity: Mapping[str, int]
    """Mentees each mentor takes in this programme; a mentor not listed takes none."""
    teams: Mapping[str, str] = field(default_factory=dict)
    """Each mentee's team (diversity)."""
    pins: frozenset[Pair] = frozenset()
    forbids: frozenset[Pair] = frozenset()
    capacity_overrides: Mapping[str, int] = field(default_factory=dict)
    reasons: Mapping[str, tuple[UnassignedReason, str]] = field(default_factory=dict)
    """Why a mentee has no candidate pair at all, from candidate generation."""
    options: Options = Options()

    def capacity_of(self, mentor_id: str) -> int:
        base = self.capacity_overrides.get(mentor_id, self.capacity.get(mentor_id, 0))
        if self.options.circle_size is not None:
            return self.options.circle_size if base > 0 else 0
        return max(base, 0)

    def everyone(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.pairs.mentees, *self.reasons)))


@dataclass(frozen=True)
class Match:
    mentee_id: str
    mentor_id: str
    score: float
    pinned: bool = False


@dataclass(frozen=True)
class Unassigned:
    mentee_id: str
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True)
class Circle:
    mentor_id: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Assignment:
    matches: tuple[Match, ...]
    unassigned: tuple[Unassigned, ...]
    floor: float | None = None
    """With fairness: the worst score any free (unpinned) mentee was given."""

    def mentor_of(self, mentee_id: str) -> str | None:
        return next((m.mentor_id for m in self.matches if m.mentee_id == mentee_id), None)

    def loads(self) -> Counter[str]:
        return Counter(m.mentor_id for m in self.matches)

    def circles(self) -> tuple[Circle, ...]:
        members: dict[str, list[str]] = {}
        for m in self.matches:
            members.setdefault(m.mentor_id, []).append(m.mentee_id)
        return tuple(Circle(k, tuple(sorted(v))) for k, v in sorted(members.items()))

    @property
    def total(self) -> float:
        return sum(m.score for m in self.matches)


def solve(problem: Problem) -> Assignment:
    pairs, options = problem.pairs, problem.options
    pinned = _pinned_rows(problem)
    capacity = _capacities(problem)
    np.subtract.at(capacity, pairs.mentor[pinned], 1)
    if (capacity < 0).any():
        full = [pairs.mentors[i] for i in np.flatnonzero(capacity < 0)]
        raise ValueError(f"more pins than capacity for mentor(s) {', '.join(full)}")
    free = _free_rows(problem, pinned)
    team_of, team_used = _teams(problem, pinned)
    pinned_mentors = set(pairs.mentor[pinned].tolist())
    dissolved: set[int] = set()
    while True:
        left = capacity.copy()
        left[list(dissolved)] = 0
        rows = free[left[pairs.mentor[free]] > 0]
        room = Room(left, options.per_team, team_of, team_used)
        floor = best_floor(pairs, rows, room) if options.fairness else None
        if floor is not None:
            rows = rows[pairs.score[rows] >= floor]
        chosen = best_rows(pairs, rows, room)
        if options.circle_size is None or options.min_circle <= 1:
            break
        size = Counter(pairs.mentor[np.concatenate([pinned, chosen])].tolist())
        small = {b for b, k in size.items() if k < options.min_circle} - pinned_mentors
        if not small:
            break
        dissolved |= small  # too few to form a circle: place them with the others
    return _assignment(problem, pinned, chosen, floor)


def resolve_declined(
    problem: Problem, current: Assignment, mentee_id: str, mentor_id: str
) -> tuple[Problem, Assignment]:
    """`mentee_id` and `mentor_id` will not be paired: forbid the pair and give the mentee
    the best mentor with room left, every other pair unchanged."""
    problem = replace(
        problem,
        forbids=problem.forbids | {(mentee_id, mentor_id)},
        pins=problem.pins - {(mentee_id, mentor_id)},
    )
    others = tuple(m for m in current.matches if m.mentee_id != mentee_id)
    loads = Counter(m.mentor_id for m in others)
    team = problem.teams.get(mentee_id, "")
    team_loads = Counter(m.mentor_id for m in others if problem.teams.get(m.mentee_id, "") == team)
    per_team = problem.options.per_team
    # In group mode with a minimum, only a circle that exists can take one more.
    open_circles_only = problem.options.circle_size is not None and problem.options.min_circle > 1
    pairs = problem.pairs
    best: Match | None = None
    for row in problem.pairs.rows_of(mentee_id):
        mentor = pairs.mentors[pairs.mentor[row]]
        score = float(pairs.score[row])
        if (
            (mentee_id, mentor) in problem.forbids
            or (problem.options.floor is not None and score < problem.options.floor)
            or loads[mentor] >= problem.capacity_of(mentor)
            or (open_circles_only and loads[mentor] == 0)
            or (per_team is not None and team_loads[mentor] >= per_team)
        ):
            continue
        if best is None or (score, best.mentor_id) > (best.score, mentor):
            best = Match(mentee_id, mentor, score)
    rest = tuple(u for u in current.unassigned if u.mentee_id != mentee_id)
    if best is not None:
        return problem, Assignment((*others, best), rest, current.floor)
    return problem, Assignment(others, (*rest, _why(problem, mentee_id)), current.floor)


def _capacities(problem: Problem) -> Int64Array:
    """`capacity_of` every mentor of the table, without a method call per mentor (there can
    be a hundred thousand)."""
    mentors = problem.pairs.mentors
    capacity = np.fromiter(
        map(problem.capacity.get, mentors, itertools.repeat(0)), np.int64, len(mentors)
    )
    for mentor_id, value in problem.capacity_overrides.items():
        at = problem.pairs.mentor_index(mentor_id)
        if at is not None:
            capacity[at] = value
    np.maximum(capacity, 0, out=capacity)
    if problem.options.circle_size is not None:
        capacity = np.where(capacity > 0, problem.options.circle_size, 0).astype(np.int64)
    return capacity


def _pinned_rows(problem: Problem) -> IntArray:
    pairs = problem.pairs
    rows: list[int] = []
    seen: set[str] = set()
    for mentee, mentor in sorted(problem.pins):
        if (mentee, mentor) in problem.forbids:
            raise ValueError(f"{mentee} → {mentor} is both pinned and forbidden")
        if mentee in seen:
            raise ValueError(f"{mentee} is pinned to more than one mentor")
        row = pairs.row(mentee, mentor)
        if row is None:
            raise ValueError(f"{mentee} → {mentor} is pinned but not a scored candidate pair")
        seen.add(mentee)
        rows.append(row)
    return np.asarray(rows, dtype=np.int32)


def _free_rows(problem: Problem, pinned: IntArray) -> IntArray:
    pairs = problem.pairs
    keep = np.ones(len(pairs), dtype=bool)
    keep[np.isin(pairs.mentee, pairs.mentee[pinned])] = False
    for mentee, mentor in problem.forbids:
        a, b = pairs.mentee_index(mentee), pairs.mentor_index(mentor)
        if a is not None and b is not None:
            keep &= ~((pairs.mentee == a) & (pairs.mentor == b))
    if problem.options.floor is not None:
        keep &= pairs.score >= problem.options.floor
    return np.flatnonzero(keep).astype(np.int32)


TeamUse = dict[tuple[int, int], int]


def _teams(problem: Problem, pinned: IntArray) -> tuple[IntArray | None, TeamUse]:
    if problem.options.per_team is None:
        return None, {}
    pairs = problem.pairs
    codes: dict[str, int] = {}
    team_of = np.array(
        [codes.setdefault(problem.teams.get(m, ""), len(codes)) for m in pairs.mentees],
        dtype=np.int32,
    )
    used = Counter(
        (int(b), int(team_of[a]))
        for a, b in zip(pairs.mentee[pinned], pairs.mentor[pinned], strict=True)
    )
    return team_of, dict(used)


def _assignment(
    problem: Problem, pinned: IntArray, chosen: IntArray, floor: float | None
) -> Assignment:
    pairs = problem.pairs
    matches = [
        Match(
            pairs.mentees[pairs.mentee[r]],
            pairs.mentors[pairs.mentor[r]],
            float(pairs.score[r]),
            pinned=is_pin,
        )
        for rows, is_pin in ((pinned, True), (chosen, False))
        for r in rows.tolist()
    ]
    placed = {m.mentee_id for m in matches}
    counts = np.bincount(pairs.mentee, minlength=len(pairs.mentees))
    plain = not problem.forbids and problem.options.floor is None
    share = " or have their share of the mentee's team" if problem.options.per_team else ""
    unassigned = tuple(
        # Without forbids or a floor, a mentee with candidates left out found them all full.
        Unassigned(m, "candidates_full", f"all {k} candidate mentor(s) are full{share}")
        if plain and (a := pairs.mentee_index(m)) is not None and (k := int(counts[a]))
        else _why(problem, m)
        for m in problem.everyone()
        if m not in placed
    )
    return Assignment(tuple(sorted(matches, key=lambda m: m.mentee_id)), unassigned, floor)


def _why(problem: Problem, mentee_id: str) -> Unassigned:
    rows = problem.pairs.rows_of(mentee_id)
    if len(rows) == 0:
        reason, detail = problem.reasons.get(
            mentee_id, ("no_candidate", "no mentor offers the goal skill at the level needed")
        )
        return Unassigned(mentee_id, reason, detail)
    pairs = problem.pairs
    mentors = [pairs.mentors[b] for b in pairs.mentor[rows].tolist()]
    allowed = [b for b in mentors if (mentee_id, b) not in problem.forbids]
    if not allowed:
        return Unassigned(mentee_id, "forbidden", f"all {len(mentors)} candidate(s) are forbidden")
    floor = problem.options.floor
    if floor is not None and all(
        s < floor for s, b in zip(pairs.score[rows].tolist(), mentors, strict=True) if b in allowed
    ):
        return Unassigned(mentee_id, "below_floor", f"no candidate scores {floor} or more")
    share = " or have their share of the mentee's team" if problem.options.per_team else ""
    return Unassigned(
        mentee_id, "candidates_full", f"all {len(allowed)} candidate mentor(s) are full{share}"
    )
