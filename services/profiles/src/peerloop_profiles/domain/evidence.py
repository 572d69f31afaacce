"""Proficiency from evidence, with forgetting: what a person did with a skill, not what they say.

Beside the self-declared level of an offer, each of these is an evidence item of a
(person, skill) pair:

| item | for | weight |
|---|---|---|
| a completed session taught | the teacher | 1.0 |
| the learner's rating of that session | the teacher | 5: +0.5, 4: +0.25, 3: 0, 2: -0.25, 1: -0.5 |
| an endorsement by a learner they taught the skill (one per learner) | the teacher | 0.5 |
| the skill learned in a completed session | the learner | 0.5 |

The score at time t is Σ weight × 0.5^(age / half-life), never below 0: with the
default half-life of a year, a session taught four years ago counts 1/16 of one
taught today. A rating ages with its session. Pure functions only; the items are
stored by the application behind `EvidenceRepository`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from peerloop_profiles.domain.model import SkillEvidence

TAUGHT_WEIGHT = 1.0
LEARNED_WEIGHT = 0.5
ENDORSED_WEIGHT = 0.5
RATING_WEIGHTS: dict[int, float] = {5: 0.5, 4: 0.25, 3: 0.0, 2: -0.25, 1: -0.5}
"""A middling rating says nothing; a poor one takes away, but never below no evidence."""

LEVEL_BANDS: tuple[tuple[float, int], ...] = ((10.0, 5), (5.0, 4), (2.5, 3), (1.0, 2))
"""Lowest score of each evidence level above 1: about ten recent well-rated sessions are a
5, one recent session a 2; any positive evidence below 1.0 (learned it, or taught it
long ago) a 1; none a 0."""

SCORE_DIGITS = 6


class EvidenceKind(StrEnum):
    TAUGHT = "taught"
    RATED = "rated"
    ENDORSED = "endorsed"
    LEARNED = "learned"


class EvidenceItem(BaseModel):
    """One thing that happened. Its identity is (person, kind, skill, source): storing the
    same item again replaces it, so redelivered events and repeated requests count once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str
    kind: EvidenceKind
    source: str
    """The session id (taught, rated, learned) or the endorsing learner's id (endorsed)."""
    skill_id: str | None = None
    """None for a rating: the rating carries no skill; it is its session's (joined here)."""
    at: datetime | None = None
    """None for a rating: it ages with its session."""
    rating: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.person_id, self.kind.value, self.skill_id or "", self.source)


def taught(person_id: str, session_id: str, skill_id: str, at: datetime) -> EvidenceItem:
    return EvidenceItem(
        person_id=person_id, kind=EvidenceKind.TAUGHT, source=session_id, skill_id=skill_id, at=at
    )


def learned(person_id: str, session_id: str, skill_id: str, at: datetime) -> EvidenceItem:
    return EvidenceItem(
        person_id=person_id, kind=EvidenceKind.LEARNED, source=session_id, skill_id=skill_id, at=at
    )


def rated(person_id: str, session_id: str, rating: int) -> EvidenceItem:
    if rating not in RATING_WEIGHTS:
        raise ValueError(f"a rating is 1 to 5, not {rating}")
    return EvidenceItem(
        person_id=person_id, kind=EvidenceKind.RATED, source=session_id, rating=rating
    )


def endorsed(person_id: str, skill_id: str, endorser_id: str, at: datetime) -> EvidenceItem:
    return EvidenceItem(
        person_id=person_id,
        kind=EvidenceKind.ENDORSED,
        source=endorser_id,
        skill_id=skill_id,
        at=at,
    )


def decay(weight: float, age: timedelta, half_life: timedelta) -> float:
    """What `weight` counts after `age`: half of it per half-life (an item from the future
    counts fully, as a clock a little behind must not inflate it)."""
    return weight * math.pow(0.5, max(age, timedelta(0)) / half_life)


def score_at(evidence: SkillEvidence, at: datetime, half_life: timedelta) -> float:
    """A published score decayed to a later time; every item ages alike, so the sum does."""
    return decay(evidence.score, at - evidence.as_of, half_life)


def evidence_level(score: float) -> int:
    if score <= 0:
        return 0
    return next((level for floor, level in LEVEL_BANDS if score >= floor), 1)


def skill_of(items: Iterable[EvidenceItem], item: EvidenceItem) -> str | None:
    """The skill an item counts for: its own, or for a rating its session's (None while the
    session is not known here yet: a rating may arrive before its session)."""
    if item.skill_id is not None:
        return item.skill_id
    session = next(
        (i for i in items if i.kind is EvidenceKind.TAUGHT and i.source == item.source), None
    )
    return session.skill_id if session else None


def summarise(
    items: Iterable[EvidenceItem], skill_id: str, half_life: timedelta
) -> SkillEvidence | None:
    """A person's evidence of one skill, as of their newest item of it; None without any.

    Deterministic in the items (not the clock), so recomputing after a redelivery gives
    the same summary and publishes nothing new.
    """
    mine = list(items)
    sessions = {
        i.source: i for i in mine if i.kind is EvidenceKind.TAUGHT and i.skill_id == skill_id
    }
    ratings = [
        (r, sessions[r.source])
        for r in mine
        if r.kind is EvidenceKind.RATED and r.source in sessions and r.rating is not None
    ]
    endorsements = [i for i in mine if i.kind is EvidenceKind.ENDORSED and i.skill_id == skill_id]
    learnt = [i for i in mine if i.kind is EvidenceKind.LEARNED and i.skill_id == skill_id]
    weighted: list[tuple[float, datetime]] = [
        *((TAUGHT_WEIGHT, s.at) for s in sessions.values() if s.at),
        *((RATING_WEIGHTS[r.rating], s.at) for r, s in ratings if r.rating and s.at),
        *((ENDORSED_WEIGHT, e.at) for e in endorsements if e.at),
        *((LEARNED_WEIGHT, i.at) for i in learnt if i.at),
    ]
    if not weighted:
        return None
    as_of = max(at for _, at in weighted)
    score = round(
        max(0.0, sum(decay(w, as_of - at, half_life) for w, at in weighted)), SCORE_DIGITS
    )
    given = [r.rating for r, _ in ratings if r.rating]
    return SkillEvidence(
        skill_id=skill_id,
        score=score,
        as_of=as_of,
        evidence_level=evidence_level(score),
        sessions_taught=len(sessions),
        endorsements=len(endorsements),
        ratings=len(given),
        mean_rating=round(sum(given) / len(given), 2) if given else None,
        learned=bool(learnt),
    )
