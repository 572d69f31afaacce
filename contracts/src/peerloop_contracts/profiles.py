"""Events published by the profiles service. Key and `ce_subject`: `person_id`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import EmailStr, Field

from peerloop_contracts.base import Event
from peerloop_contracts.common import (
    MAX_AWAY_PERIODS,
    MAX_LANGUAGES,
    ONE_LINE,
    AwayPeriod,
    Count,
    Description,
    DisplayName,
    EntityId,
    Language,
    Level,
    Location,
    PersonId,
    SkillId,
    SkillName,
    Team,
    TimeZoneName,
    WorkingHours,
    at_most,
)

OWNER = "profiles"
"""Publishes every event of this module, and no other service may (see `Event.owner`)."""


class _PersonEvent(Event):
    owner: ClassVar[str] = OWNER
    aggregate: ClassVar[str] = "person_id"

    person_id: PersonId


class _ProfileSnapshot(_PersonEvent):
    display_name: DisplayName
    email: EmailStr
    team: Team
    manager_id: PersonId | None = None
    location: Location | None = None
    time_zone: TimeZoneName = Field(description="IANA time zone, e.g. Europe/Berlin")
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    languages: Annotated[list[Language], at_most(MAX_LANGUAGES)] = Field(default_factory=list)


class ProfileRegistered(_ProfileSnapshot):
    """A person joined Peerloop.

    Emitted by profiles when a person registers. Key: `person_id`.
    Example: `{"person_id": "p-17", "display_name": "Ada", "email": "ada@example.com",
    "team": "billing", "time_zone": "Europe/London", "sequence": 1, ...}`
    """

    event_name: ClassVar[str] = "profile-registered"


class ProfileUpdated(_ProfileSnapshot):
    """A person's profile changed; carries the whole new profile (not a diff).

    Emitted by profiles on every profile update. Key: `person_id`.
    Example: `{"person_id": "p-17", "display_name": "Ada Okafor", "email": "ada@example.com",
    "team": "payments", "time_zone": "Europe/London", "working_hours": {"start": "09:00",
    "end": "17:00", "days": [1,2,3,4,5]}, "languages": ["en"], "sequence": 5}`
    """

    event_name: ClassVar[str] = "profile-updated"


class SkillOffered(_PersonEvent):
    """A person offers to teach a skill, or changed an offer (the newest one replaces).

    Emitted by profiles. Key: `person_id`. `skill_id` is the canonical id from the
    skill catalogue (aliases such as "k8s" are already resolved to "kubernetes").
    Example: `{"person_id": "p-17", "skill_id": "mongodb", "skill_name": "MongoDB",
    "level": 4, "description": "aggregation pipelines, indexing", "willing_to_teach": true,
    "weekly_capacity": 2, "sequence": 3}`
    """

    event_name: ClassVar[str] = "skill-offered"

    skill_id: SkillId
    skill_name: SkillName
    level: Level
    description: Description = ""
    willing_to_teach: bool = Field(
        default=True,
        description="false: the person keeps the skill on their profile but is never "
        "suggested (proposed) for it",
    )
    weekly_capacity: int = Field(ge=0, le=50, description="sessions per week for this skill")
    private: bool = Field(
        default=False,
        description="true: for matching only. Do not show this offer in directories or "
        "people search; the person is still proposed for it",
    )


class SkillWithdrawn(_PersonEvent):
    """A person no longer offers a skill. Emitted by profiles. Key: `person_id`.

    Example: `{"person_id": "p-17", "skill_id": "mongodb", "sequence": 6}`
    """

    event_name: ClassVar[str] = "skill-withdrawn"

    skill_id: SkillId


class AvailabilityChanged(_PersonEvent):
    """A person's availability changed: overall weekly capacity, hours, time zone, away periods.

    Emitted by profiles. Key: `person_id`.
    Example: `{"person_id": "p-17", "weekly_capacity": 3, "time_zone": "Asia/Kolkata",
    "working_hours": {"start": "10:00", "end": "18:00", "days": [1,2,3,4,5]},
    "away_periods": [{"start": "2026-12-20", "end": "2027-01-02"}], "sequence": 4}`
    """

    event_name: ClassVar[str] = "availability-changed"

    weekly_capacity: int = Field(ge=0, le=50, description="sessions per week, all skills")
    time_zone: TimeZoneName
    working_hours: WorkingHours
    away_periods: Annotated[list[AwayPeriod], at_most(MAX_AWAY_PERIODS)] = Field(
        default_factory=list
    )
    proposals_paused_until: date | None = Field(
        default=None,
        description="no proposals up to and including this day (the person paused them); "
        "they resume by themselves the day after",
    )


class LearningGoalSet(_PersonEvent):
    """A person wants to learn a skill up to a level. Emitted by profiles. Key: `person_id`.

    Example: `{"person_id": "p-42", "skill_id": "kubernetes", "target_level": 3, "sequence": 2}`
    """

    event_name: ClassVar[str] = "learning-goal-set"

    skill_id: SkillId
    target_level: Level


class LearningGoalRemoved(_PersonEvent):
    """A person dropped a learning goal. Emitted by profiles. Key: `person_id`.

    Example: `{"person_id": "p-42", "skill_id": "kubernetes", "sequence": 3}`
    """

    event_name: ClassVar[str] = "learning-goal-removed"

    skill_id: SkillId


class SkillAcquired(_PersonEvent):
    """A learner gained a skill through a completed session; they may now teach it onward.

    Emitted by profiles after consuming `session-completed`. Key: `person_id` (the learner).
    Example: `{"person_id": "p-42", "skill_id": "mongodb", "skill_name": "MongoDB",
    "level": 2, "teacher_id": "p-17", "session_id": "s-1", "acquired_at": "…", "sequence": 7}`
    """

    event_name: ClassVar[str] = "skill-acquired"

    skill_id: SkillId
    skill_name: Annotated[str, at_most(100), ONE_LINE]
    level: Level
    teacher_id: PersonId
    session_id: EntityId
    acquired_at: datetime


class ProfileErased(_PersonEvent):
    """A person was erased (GDPR). Every consumer must forget everything about them.

    Emitted by profiles. Key: `person_id`. Carries no personal data.
    Example: `{"person_id": "p-17", "sequence": 9}`
    """

    event_name: ClassVar[str] = "profile-erased"


class SkillEvidenceChanged(_PersonEvent):
    """What a person has shown of a skill changed: taught a session, was rated, endorsed, learned.

    Emitted by profiles, in the same write as the change that caused it. Key: `person_id`.
    Beside the self-declared level of `skill-offered`, this is what happened: `score` is
    the sum of the evidence items' weights, each halved every `half_life_days` of its age,
    as of `as_of` (the newest item's time). A subscriber decays it further itself:
    `score(t) = score * 0.5 ** ((t - as_of).days / half_life_days)`. The weights and the
    half-life are in the profiles README. A person erased later is announced by
    `profile-erased`: forget their evidence then.
    Example: `{"person_id": "p-17", "skill_id": "kubernetes", "skill_name": "Kubernetes",
    "score": 2.43, "as_of": "2026-12-03T15:10:00Z", "half_life_days": 365.0,
    "evidence_level": 2, "sessions_taught": 3, "endorsements": 2, "ratings": 2,
    "mean_rating": 4.5, "learned": false, "sequence": 11}`
    """

    event_name: ClassVar[str] = "skill-evidence-changed"

    skill_id: SkillId
    skill_name: SkillName
    score: float = Field(ge=0, allow_inf_nan=False, description="the evidence as of `as_of`")
    as_of: datetime = Field(description="when `score` holds: the newest evidence item's time")
    half_life_days: float = Field(
        gt=0, allow_inf_nan=False, description="the age at which an item counts half"
    )
    evidence_level: int = Field(
        ge=0,
        le=5,
        description="the score on the 1–5 scale of self-declared levels (0: no evidence)",
    )
    sessions_taught: Count = Field(description="completed sessions this person taught on it")
    endorsements: Count = Field(description="learners of this person who endorsed the skill")
    ratings: Count = Field(description="ratings of those sessions by their learners")
    mean_rating: float | None = Field(
        default=None, ge=1, le=5, allow_inf_nan=False, description="null without ratings"
    )
    learned: bool = Field(description="the person learned this skill in a completed session")


EVENTS: tuple[type[Event], ...] = (
    ProfileRegistered,
    ProfileUpdated,
    SkillOffered,
    SkillWithdrawn,
    AvailabilityChanged,
    LearningGoalSet,
    LearningGoalRemoved,
    SkillAcquired,
    ProfileErased,
    SkillEvidenceChanged,
)
