"""Entity state records: the latest full state of an aggregate, on a compacted topic.

Beside its change events (`profiles.py`, `matching.py`, kept 7 days) each aggregate
other systems need has a state topic keyed by its id, compacted by the broker: after
compaction it holds one record per aggregate, the newest. A subscriber that starts
late (a new integration, a replica with an empty store) reads the state topic from
the beginning, then follows the change events (event-carried state transfer).

- A state record is written by the same outbox write as the change events it
  follows, so state and change never diverge. Its `sequence` is the aggregate's
  after that change: a change event whose sequence is not newer is already in it.
- Erasure is a **tombstone**: a record with the key and a null value (CloudEvents
  headers still say its type and subject). After compaction the topic holds no
  record of the erased aggregate with data.
- An erased person's own help requests are tombstoned too; a request of someone
  else that the person helped with is **redacted** (they become `erased`) and
  published again under a sequence of its own, which no change event carries.

No private data: a person's state has no e-mail address or location, a
help request's no decline reasons, score explanations or feedback comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from peerloop_contracts.base import Event, WireModel
from peerloop_contracts.common import (
    MAX_AWAY_PERIODS,
    MAX_LANGUAGES,
    STORABLE,
    TEXT,
    AwayPeriod,
    Description,
    DisplayName,
    EntityId,
    Language,
    Level,
    PersonId,
    SessionFormat,
    SkillId,
    SkillName,
    Task,
    Team,
    TimeZoneName,
    Urgency,
    WorkingHours,
    at_most,
)
from peerloop_contracts.matching import UnmatchedReason, WaitingReason

PROFILES = "profiles"
MATCHING = "matching"

MAX_OFFERS = 200
MAX_GOALS = 200
MAX_LEARNED = 1000
MAX_PROPOSALS = 500

HelpRequestStatus = Literal[
    "requested",
    "proposed",
    "waiting",
    "accepted",
    "completed",
    "not_happened",
    "unmatched",
    "cancelled",
]
ProposalStatus = Literal["pending", "declined", "expired", "accepted", "cancelled"]


class EntityState(Event):
    """The latest full state of one aggregate; a null value (tombstone) means erased."""

    compacted: ClassVar[bool] = True


@dataclass(frozen=True)
class Tombstone:
    """A state record with a null value: the aggregate `key` was erased; forget it."""

    state: type[EntityState]
    key: str

    @property
    def subject(self) -> str:
        return self.key


class OfferState(WireModel):
    skill_id: SkillId
    skill_name: SkillName
    level: Level
    description: Description = ""
    willing_to_teach: bool = True
    weekly_capacity: int = Field(ge=0, le=50, description="sessions per week for this skill")
    private: bool = Field(
        default=False,
        description="offered to matching only: a system that shows people leaves it out",
    )


class GoalState(WireModel):
    skill_id: SkillId
    target_level: Level


class LearnedState(WireModel):
    skill_id: SkillId
    skill_name: Annotated[str, at_most(100)]
    level: Level
    acquired_at: datetime


class PersonState(EntityState):
    """A person as other systems may know them: public profile, availability, offers, goals.

    Emitted by profiles with every change of the person, beside its change events.
    Key: `person_id`.
    Tombstone (null value) on erasure. No e-mail address or location. The manager is
    there as on `profile-registered`: matching keeps people out of their reporting line.
    Example: `{"person_id": "p-17", "display_name": "Ada Lovelace", "team": "billing",
    "time_zone": "Europe/London", "weekly_capacity": 3, "offers": [{"skill_id": "mongodb",
    "skill_name": "MongoDB", "level": 4, ...}], "goals": [...], "learned": [...], "sequence": 9}`
    """

    event_name: ClassVar[str] = "person-state"
    owner: ClassVar[str] = PROFILES
    aggregate: ClassVar[str] = "person_id"

    person_id: PersonId
    display_name: DisplayName
    team: Team
    manager_id: PersonId | None = Field(default=None, description="the person's manager")
    time_zone: TimeZoneName = Field(description="IANA time zone, e.g. Europe/Berlin")
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    languages: Annotated[list[Language], at_most(MAX_LANGUAGES)] = Field(default_factory=list)
    weekly_capacity: int = Field(
        ge=0, le=50, description="sessions per week, all skills; 0 while deactivated"
    )
    away_periods: Annotated[list[AwayPeriod], at_most(MAX_AWAY_PERIODS)] = Field(
        default_factory=list
    )
    proposals_paused_until: date | None = Field(
        default=None, description="no proposals up to and including this day"
    )
    offers: Annotated[list[OfferState], at_most(MAX_OFFERS)] = Field(
        default_factory=list, description="the skills the person offers to teach now"
    )
    goals: Annotated[list[GoalState], at_most(MAX_GOALS)] = Field(
        default_factory=list, description="the person's learning goals now"
    )
    learned: Annotated[list[LearnedState], at_most(MAX_LEARNED)] = Field(
        default_factory=list, description="skills gained in completed sessions"
    )


class ProposalState(WireModel):
    proposal_id: EntityId
    attempt: Annotated[int, STORABLE] = Field(ge=1)
    helper_id: PersonId
    skill_id: SkillId
    score: float = Field(allow_inf_nan=False)
    status: ProposalStatus
    proposed_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class SessionState(WireModel):
    session_id: EntityId
    learner_id: PersonId
    teacher_id: PersonId
    skill_id: SkillId
    scheduled_at: datetime | None = None
    completed_at: datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=1440)
    rating_of_teacher: int | None = Field(default=None, ge=1, le=5)
    rating_of_learner: int | None = Field(default=None, ge=1, le=5)


class HelpRequestState(EntityState):
    """A help request as it stands: what was asked, who was proposed, the session, ratings.

    Emitted by matching with every change of the request, beside its change events.
    Key: `request_id`.
    Tombstone (null value) when the requester is erased.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "status": "completed",
    "skill_id": "mongodb", "desired_level": 3, "proposals": [{"proposal_id": "r-9.p1",
    "helper_id": "p-17", "status": "accepted", ...}], "session": {...}, "sequence": 6}`
    """

    event_name: ClassVar[str] = "help-request-state"
    owner: ClassVar[str] = MATCHING
    aggregate: ClassVar[str] = "request_id"

    request_id: str = Field(min_length=1, max_length=64)
    requester_id: PersonId
    status: HelpRequestStatus
    skill_id: SkillId
    desired_level: Level
    task: Task
    needed_by: datetime | None = None
    urgency: Urgency = "normal"
    format: SessionFormat = "call"
    max_minutes: int = Field(default=60, ge=5, le=480)
    created_at: datetime
    updated_at: datetime = Field(description="when this state was reached")
    proposals: Annotated[list[ProposalState], at_most(MAX_PROPOSALS)] = Field(default_factory=list)
    session: SessionState | None = None
    unmatched_reason: UnmatchedReason | None = None
    unmatched_detail: Annotated[str, at_most(500), TEXT] | None = None
    waiting_reason: WaitingReason | None = Field(
        default=None, description="while `waiting`: why nobody can take it now"
    )
    waiting_since: datetime | None = None
    wait_until: datetime | None = Field(
        default=None, description="while `waiting`: when it ends unmatched if nobody came"
    )
    programme_id: EntityId | None = Field(
        default=None, description="the programme that proposed this pair, if any"
    )


MAX_SKILL_ALIASES = 20
MAX_SKILL_RELATIONS = 20


class OrganisationSkillDefined(EntityState):
    """A skill the organisation defined, or the aliases it added to a curated or ESCO skill.

    Emitted by profiles when an admin defines, changes or removes one (`PUT`/`DELETE
    /skills/{skill_id}`). Key: `skill_id`. The topic is compacted: read from the beginning
    it holds the whole organisation layer of the catalogue, one record per skill, each the
    full definition (a later one replaces an earlier one, never adds to it).
    Tombstone (null value) when the definition is removed: the skill is forgotten, or a
    curated skill loses the aliases the organisation had added.
    `extends` is true for a curated or ESCO skill: only `aliases` is the organisation's,
    `name` is the catalogue's.
    Example: `{"skill_id": "acme-ledger", "name": "Acme Ledger", "aliases": ["ledger"],
    "description": "Our in-house bookkeeping system", "related": ["accounting"],
    "broader": [], "extends": false, "sequence": 1}`
    """

    event_name: ClassVar[str] = "organisation-skill-defined"
    owner: ClassVar[str] = PROFILES
    aggregate: ClassVar[str] = "skill_id"

    skill_id: SkillId
    name: SkillName
    aliases: Annotated[list[SkillName], at_most(MAX_SKILL_ALIASES)] = Field(default_factory=list)
    description: Description = ""
    related: Annotated[list[SkillId], at_most(MAX_SKILL_RELATIONS)] = Field(
        default_factory=list, description="skills an expert in this one can also help with"
    )
    broader: Annotated[list[SkillId], at_most(MAX_SKILL_RELATIONS)] = Field(
        default_factory=list, description="the wider skills this one belongs to"
    )
    extends: bool = Field(
        default=False, description="aliases added to a curated or ESCO skill of this id"
    )


STATES: tuple[type[EntityState], ...] = (PersonState, HelpRequestState, OrganisationSkillDefined)
