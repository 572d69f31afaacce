"""The person aggregate: who someone is, what they offer, want to learn and have learned.

Values only; every change goes through `changes.py`, which applies the rules and
says which events the change publishes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from peerloop_contracts.common import AwayPeriod, WorkingHours
from pydantic import BaseModel, ConfigDict


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Status(StrEnum):
    ACTIVE = "active"
    AWAY = "away"
    INACTIVE = "inactive"
    """Deactivated by the organisation's identity system: kept, but out of matching."""
    ERASED = "erased"


class ProfileDetails(_Value):
    """Everything that identifies a person: removed as a whole on erasure."""

    display_name: str
    email: str
    team: str
    manager_id: str | None = None
    location: str | None = None
    time_zone: str
    working_hours: WorkingHours = WorkingHours()
    languages: tuple[str, ...] = ()


class OfferedSkill(_Value):
    skill_id: str
    level: int
    description: str = ""
    willing_to_teach: bool = True
    """False: kept on the profile, never suggested (proposed) for it."""
    weekly_capacity: int = 1
    private: bool = False
    """For matching only: not shown to colleagues (people search, the public profile)."""


class LearningGoal(_Value):
    skill_id: str
    target_level: int


class LearnedSkill(_Value):
    """A skill gained in a completed session; it can be offered onward like any other."""

    skill_id: str
    level: int
    teacher_id: str
    session_id: str
    acquired_at: datetime


class SkillEvidence(_Value):
    """What a person has shown of one skill, as last published (`skill-evidence-changed`).

    Computed from the evidence items by `evidence.summarise`; kept on the person so a
    change is published only when the summary changes, and in the same write.
    """

    skill_id: str
    score: float
    as_of: datetime
    evidence_level: int
    sessions_taught: int = 0
    endorsements: int = 0
    ratings: int = 0
    mean_rating: float | None = None
    learned: bool = False


class Person(_Value):
    person_id: str
    details: ProfileDetails | None
    """None once the person is erased."""
    weekly_capacity: int = 0
    away_periods: tuple[AwayPeriod, ...] = ()
    proposals_paused_until: date | None = None
    """No proposals up to and including this day; they resume by themselves after it."""
    skills_offered: tuple[OfferedSkill, ...] = ()
    learning_goals: tuple[LearningGoal, ...] = ()
    skills_learned: tuple[LearnedSkill, ...] = ()
    sessions_taught: tuple[str, ...] = ()
    """Ids of the sessions this person taught; a set, so a replayed session counts once."""
    version: int = 0
    """Bumped by every stored change; clients send it back to detect concurrent edits."""
    sequence: int = 0
    """Number of events published about this person; each event carries its own."""
    erased_at: datetime | None = None
    active: bool = True
    """False while the organisation's identity system has the account deactivated."""
    evidence: tuple[SkillEvidence, ...] = ()
    """Per skill, the evidence last published; items live in the evidence store."""

    @property
    def erased(self) -> bool:
        return self.details is None

    @property
    def bookable_capacity(self) -> int:
        """What others may book: a deactivated person takes nobody, whatever they set for later."""
        return self.weekly_capacity if self.active else 0

    def offered(self, skill_id: str) -> OfferedSkill | None:
        return next((s for s in self.skills_offered if s.skill_id == skill_id), None)

    def shown_offers(self) -> tuple[OfferedSkill, ...]:
        """The offers colleagues may see: all but the private ones."""
        return tuple(s for s in self.skills_offered if not s.private)

    def evidence_for(self, skill_id: str) -> SkillEvidence | None:
        return next((e for e in self.evidence if e.skill_id == skill_id), None)

    def goal(self, skill_id: str) -> LearningGoal | None:
        return next((g for g in self.learning_goals if g.skill_id == skill_id), None)

    def learned_in(self, session_id: str) -> LearnedSkill | None:
        return next((s for s in self.skills_learned if s.session_id == session_id), None)

    def away_on(self, day: date) -> AwayPeriod | None:
        return next((p for p in self.away_periods if p.start <= day <= p.end), None)

    def status_on(self, day: date) -> Status:
        if self.erased:
            return Status.ERASED
        if not self.active:
            return Status.INACTIVE
        return Status.AWAY if self.away_on(day) else Status.ACTIVE
