"""The match score: a weighted sum of explainable components.

Each component is a value in 0..1 with a sentence saying why; the weights come
from configuration. The repeat-pairing weight is negative: it is a penalty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peerloop_matching.domain.availability import overlap
from peerloop_matching.domain.candidate import Candidate, recent_weeks
from peerloop_matching.domain.reputation import normalised, smoothed_rating


@dataclass(frozen=True)
class Weights:
    skill_fit: float = 0.30
    level_margin: float = 0.10
    hours_overlap: float = 0.20
    fair_load: float = 0.15
    reputation: float = 0.15
    cross_team: float = 0.10
    repeat_pairing: float = -0.10
    related_skill_discount: float = 0.5
    """skill_fit of a related skill, relative to the exact one."""
    level_margin_cap: int = 2
    """Levels above the desired one that still earn more credit."""
    fair_load_cap: int = 4
    """Sessions in the recent window at which fair-load credit reaches zero."""
    repeat_pairing_cap: int = 3
    task_fit: float = 0.0
    """Weight of `task_fit`, added by re-ranking the shortlist (`domain/task_fit.py`)."""
    evidence: float = 0.0
    """Weight of the offered skill's evidence (sessions taught, ratings, endorsements, decayed);
    0 by default: explained in every breakdown, ranking nothing until measured to help."""


@dataclass(frozen=True)
class Component:
    name: str
    weight: float
    value: float
    explanation: str

    @property
    def contribution(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True)
class Requester:
    person_id: str
    team: str
    week_mask: int


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    skill_id: str
    """The skill the helper offers: the one asked for, or a related one."""
    components: tuple[Component, ...]

    @property
    def score(self) -> float:
        return round(sum(c.weight * c.value for c in self.components), 6)


@dataclass(frozen=True)
class Facts:
    """What a score is computed from, kept so the explanation can quote it."""

    exact: bool
    level: int
    shared: float
    recent: int
    rating: float
    cross: bool
    repeats: int
    evidence: float = 0.0
    """The offered skill's evidence score, decayed to now."""
    taught: int = 0
    endorsed: int = 0


def facts(
    candidate: Candidate,
    *,
    offered_skill: str,
    requested_skill: str,
    requester: Requester,
    helper_mask: int,
    now: datetime,
) -> Facts:
    shown = candidate.evidence.get(offered_skill) if candidate.evidence else None
    return Facts(
        evidence=shown.score_at(now) if shown else 0.0,
        taught=shown.sessions_taught if shown else 0,
        endorsed=shown.endorsements if shown else 0,
        exact=offered_skill == requested_skill,
        level=candidate.offers[offered_skill].level,
        shared=overlap(requester.week_mask, helper_mask),
        recent=candidate.recent_sessions(recent_weeks(now)),
        rating=smoothed_rating(candidate.rating_sum, candidate.rating_count),
        cross=bool(candidate.team) and candidate.team != requester.team,
        repeats=candidate.pairings_with(requester.person_id),
    )


def values(f: Facts, desired_level: int, w: Weights) -> tuple[float, ...]:
    """Each component's value in 0..1, in the order of `COMPONENTS`."""
    margin = min(f.level - desired_level, w.level_margin_cap)
    return (
        1.0 if f.exact else w.related_skill_discount,
        max(margin, 0) / w.level_margin_cap if w.level_margin_cap else 1.0,
        f.shared,
        fair_load_value(f.recent, w),
        normalised(f.rating),
        1.0 if f.cross else 0.0,
        min(f.repeats, w.repeat_pairing_cap) / w.repeat_pairing_cap,
        evidence_value(f.evidence),
    )


EVIDENCE_HALF_VALUE = 2.5
"""The evidence score worth half the component: profiles' evidence level 3 (a few recent
rated sessions); the value approaches 1 as evidence grows, never reaching it."""


def evidence_value(evidence: float) -> float:
    return evidence / (evidence + EVIDENCE_HALF_VALUE) if evidence > 0 else 0.0


COMPONENTS = (
    "skill_fit",
    "level_margin",
    "hours_overlap",
    "fair_load",
    "reputation",
    "cross_team",
    "repeat_pairing",
    "evidence",
)


def fair_load_value(recent: int, w: Weights) -> float:
    return 1.0 - min(recent, w.fair_load_cap) / w.fair_load_cap


def standing(candidate: Candidate, weights: Weights, weeks: frozenset[str]) -> float:
    """The part of the score that does not depend on the request: reputation and fair load."""
    rating = normalised(smoothed_rating(candidate.rating_sum, candidate.rating_count))
    fair = fair_load_value(candidate.recent_sessions(weeks), weights)
    return weights.reputation * rating + weights.fair_load * fair


def weight_vector(w: Weights) -> tuple[float, ...]:
    return (
        w.skill_fit,
        w.level_margin,
        w.hours_overlap,
        w.fair_load,
        w.reputation,
        w.cross_team,
        w.repeat_pairing,
        w.evidence,
    )


SCORE_QUANTUM = 9
"""Decimals a score is compared at, so float noise never decides between equal scores."""


def total(vals: tuple[float, ...], weights: tuple[float, ...]) -> float:
    return round(sum(w * v for w, v in zip(weights, vals, strict=True)), SCORE_QUANTUM)


def explain(
    candidate: Candidate,
    f: Facts,
    *,
    offered_skill: str,
    desired_level: int,
    weights: Weights,
) -> Scored:
    vals = values(f, desired_level, weights)
    sentences = (
        f"offers {offered_skill}" if f.exact else f"offers related skill {offered_skill}",
        f"level {f.level} for a level {desired_level} need",
        f"{f.shared:.0%} of the requester's working hours overlap",
        f"{f.recent} session(s) in the last 4 ISO weeks",
        f"smoothed rating {f.rating:.2f} from {candidate.rating_count} review(s)",
        f"from team {candidate.team}, not the requester's"
        if f.cross
        else "same team as the requester",
        f"paired with the requester {f.repeats} time(s) before",
        evidence_sentence(offered_skill, f),
    )
    components = tuple(
        Component(name, weight, value, sentence)
        for name, weight, value, sentence in zip(
            COMPONENTS, weight_vector(weights), vals, sentences, strict=True
        )
    )
    return Scored(candidate=candidate, skill_id=offered_skill, components=components)


def evidence_sentence(skill_id: str, f: Facts) -> str:
    """E.g. "taught kubernetes 3 times, endorsed by 2 (evidence 2.40)"."""
    if not f.evidence and not f.taught and not f.endorsed:
        return f"no evidence yet of teaching {skill_id}"
    times = "once" if f.taught == 1 else f"{f.taught} times"
    return f"taught {skill_id} {times}, endorsed by {f.endorsed} (evidence {f.evidence:.2f})"


def score(
    candidate: Candidate,
    *,
    offered_skill: str,
    requested_skill: str,
    desired_level: int,
    requester: Requester,
    helper_mask: int,
    weights: Weights,
    now: datetime,
) -> Scored:
    found = facts(
        candidate,
        offered_skill=offered_skill,
        requested_skill=requested_skill,
        requester=requester,
        helper_mask=helper_mask,
        now=now,
    )
    return explain(
        candidate, found, offered_skill=offered_skill, desired_level=desired_level, weights=weights
    )
