"""Who can help with a request, and in which order: the matching engine.

Pure: it gets the skill index (or, for checks and benchmarks, any list of offerers)
and the moment to judge by, and returns the eligible helpers best first, or why
there is nobody.

`find_helpers` walks the index's (skill, level) buckets best standing first and
stops a bucket as soon as even a perfect result on the request-dependent parts
(hours overlap, cross-team; skill fit and level margin are fixed per bucket)
could not beat the worst of the best `limit` found so far. `rank_all` scores
every offerer; the tests hold the two to the same answer.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from peerloop_contracts.matching import UnmatchedReason

from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Candidate, iso_week
from peerloop_matching.domain.scoring import (
    Facts,
    Requester,
    Scored,
    Weights,
    explain,
    facts,
    total,
    values,
    weight_vector,
)
from peerloop_matching.domain.skill_index import SkillIndex

DEFAULT_LIMIT = 20
BELOW = 1e-9
"""A bound this far under the threshold cannot reach it, whatever the rounding."""
TIE = 4e-10
"""Scores are compared at 1e-9 (`SCORE_QUANTUM`): a bound within this of the threshold
can at best tie, and a tie goes to the smaller person id."""


@dataclass(frozen=True)
class Need:
    skill_id: str
    desired_level: int
    requester: Requester
    tried: frozenset[str] = frozenset()
    """Helpers already asked for this request (pending, declined or expired)."""


@dataclass(frozen=True)
class Outcome:
    ranked: tuple[Scored, ...]
    unmatched_reason: UnmatchedReason | None = None
    detail: str = ""
    unavailable: int = 0
    """Possible helpers not asked yet who are away or at capacity."""
    away: int = 0
    """Of those, how many are away."""


class _Rank:
    """A heap item ordered worst first: lower score, then (on a tie) the larger id."""

    __slots__ = ("candidate", "facts", "person_id", "score", "skill_id")

    def __init__(self, score: float, candidate: Candidate, skill_id: str, found: Facts) -> None:
        self.score = score
        self.candidate = candidate
        self.person_id = candidate.person_id
        self.skill_id = skill_id
        self.facts = found

    def __lt__(self, other: _Rank) -> bool:
        if self.score != other.score:
            return self.score < other.score
        return self.person_id > other.person_id


@dataclass
class _Search:
    need: Need
    weights: Weights
    now: datetime
    limit: int
    vector: tuple[float, ...] = ()
    top: list[_Rank] = field(default_factory=list)
    held: dict[str, _Rank] = field(default_factory=dict)
    pool: set[str] = field(default_factory=set)
    tried: int = 0
    unavailable: int = 0
    away: int = 0

    def __post_init__(self) -> None:
        self.vector = weight_vector(self.weights)
        self._monday = week_start(self.now)
        self._week = iso_week(self.now)
        self._today = self.now.date()

    @property
    def full(self) -> bool:
        return len(self.held) >= self.limit

    def worst(self) -> _Rank:
        while self.top[0] is not self.held.get(self.top[0].person_id):
            heapq.heappop(self.top)  # superseded by a better score for the same person
        return self.top[0]

    def consider(self, candidate: Candidate, skill_id: str) -> None:
        need = self.need
        offer = candidate.offers.get(skill_id)
        if (
            offer is None
            or candidate.person_id == need.requester.person_id
            or not offer.willing_to_teach
            or offer.level < need.desired_level
        ):
            return
        first_look = candidate.person_id not in self.pool
        self.pool.add(candidate.person_id)
        if candidate.person_id in need.tried:
            self.tried += first_look
            return
        if candidate.is_away(self._today):
            self.unavailable += first_look
            self.away += first_look
            return
        if not candidate.has_capacity(skill_id, self.now, week=self._week):
            self.unavailable += first_look
            return
        found = facts(
            candidate,
            offered_skill=skill_id,
            requested_skill=need.skill_id,
            requester=need.requester,
            helper_mask=week_mask(candidate.time_zone, candidate.hours, self._monday),
            now=self.now,
        )
        item = _Rank(
            total(values(found, need.desired_level, self.weights), self.vector),
            candidate,
            skill_id,
            found,
        )
        current = self.held.get(item.person_id)
        if current is not None:
            if current < item:
                self.held[item.person_id] = item
                heapq.heappush(self.top, item)
            return
        if self.full:
            if not self.worst() < item:
                return
            dropped = heapq.heappop(self.top)
            del self.held[dropped.person_id]
        self.held[item.person_id] = item
        heapq.heappush(self.top, item)

    def outcome(self) -> Outcome:
        best = sorted(self.held.values(), reverse=True)
        ranked = tuple(
            explain(
                r.candidate,
                r.facts,
                offered_skill=r.skill_id,
                desired_level=self.need.desired_level,
                weights=self.weights,
            )
            for r in best
        )
        if ranked:
            return Outcome(ranked)
        nobody = _nobody(self.need, len(self.pool), self.tried)
        return replace(nobody, unavailable=self.unavailable, away=self.away)


def find_helpers(
    need: Need,
    index: SkillIndex,
    *,
    weights: Weights,
    now: datetime,
    limit: int = DEFAULT_LIMIT,
) -> Outcome:
    """The best `limit` eligible helpers for `need`, best first, found through the index."""
    search = _Search(need, weights, now, limit)
    w = weights
    # The most the request-dependent parts can add (a negative weight can only subtract).
    open_parts = (
        max(w.hours_overlap, 0)
        + max(w.cross_team, 0)
        + max(w.repeat_pairing, 0)
        + max(w.evidence, 0)  # per offered skill, so outside the standing buckets sort by
    )
    related = [(s, w.related_skill_discount) for s in index.related(need.skill_id)]
    for skill_id, fit in [(need.skill_id, 1.0), *related]:
        for level in range(5, need.desired_level - 1, -1):
            margin = min(level - need.desired_level, w.level_margin_cap)
            fixed = w.skill_fit * fit + w.level_margin * (
                margin / w.level_margin_cap if w.level_margin_cap else 1.0
            )
            for negative_standing, person_id in index.bucket(skill_id, level, now):
                if search.full:
                    bound = fixed - negative_standing + open_parts
                    worst = search.worst()
                    if bound < worst.score - BELOW or (
                        bound <= worst.score + TIE and person_id > worst.person_id
                    ):
                        break  # nobody further down this bucket can make the list
                candidate = index.get(person_id)
                if candidate is not None:
                    search.consider(candidate, skill_id)
    return search.outcome()


def rank_all(
    need: Need,
    offerers: Iterable[tuple[Candidate, str]],
    *,
    weights: Weights,
    now: datetime,
    limit: int = DEFAULT_LIMIT,
) -> Outcome:
    """Score every (candidate, offered skill) pair: the reference `find_helpers` must equal."""
    search = _Search(need, weights, now, limit)
    for candidate, skill_id in offerers:
        search.consider(candidate, skill_id)
    return search.outcome()


def _nobody(need: Need, pool: int, tried: int) -> Outcome:
    if pool == 0:
        return Outcome(
            (),
            "no_one_offers",
            f"nobody else offers {need.skill_id} (or a related skill) "
            f"at level {need.desired_level} or above",
        )
    if tried >= pool:
        return Outcome((), "all_declined", f"all {pool} possible helper(s) were asked already")
    return Outcome(
        (),
        "all_at_capacity",
        f"{pool - tried} possible helper(s) are away or at capacity this week; "
        f"{tried} were asked already",
    )
