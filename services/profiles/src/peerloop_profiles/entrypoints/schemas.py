"""Request and response bodies of the HTTP API.

Requests validate what they can field by field (so a bad value is a 422 naming
the field) using the same rules as the domain.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from peerloop_contracts import common as contract
from peerloop_contracts.common import (
    ERASED_PERSON,
    MAX_AWAY_PERIODS,
    MAX_LANGUAGES,
    MAX_STORED_INT,
    AwayPeriod,
    Description,
    DisplayName,
    Level,
    Location,
    PersonId,
    Team,
    TimeZoneName,
    WorkingHours,
    at_most,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.model import Status
from peerloop_profiles.domain.rules import MAX_WEEKLY_CAPACITY, canonical_skill, check_time_zone


def to_time_zone(value: str) -> str:
    try:
        return check_time_zone(value)
    except RuleViolation as exc:
        raise ValueError(exc.message) from exc


def to_skill_id(value: str) -> str:
    try:
        return canonical_skill(value)
    except RuleViolation as exc:
        raise ValueError(exc.message) from exc


TimeZone = Annotated[
    TimeZoneName,
    AfterValidator(to_time_zone),
    Field(description="IANA time zone", examples=["Europe/Berlin"]),
]
SkillName = Annotated[
    contract.SkillName,
    Field(examples=["k8s"]),
    AfterValidator(to_skill_id),
]
Language = Annotated[contract.Language, Field(min_length=1)]
Languages = Annotated[list[Language], at_most(MAX_LANGUAGES)]
AwayPeriods = Annotated[list[AwayPeriod], at_most(MAX_AWAY_PERIODS)]
Capacity = Annotated[int, Field(ge=0, le=MAX_WEEKLY_CAPACITY, description="sessions per week")]
Version = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_STORED_INT,
        description="The version you read; the change is refused with 409 if the person "
        "changed since. The `If-Match` header does the same.",
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _lower_case_id(value: str | None) -> str | None:
    if value is not None and value != value.lower():
        raise ValueError("person ids are lower case (they are usernames at the identity provider)")
    if value == ERASED_PERSON:
        raise ValueError(f"{ERASED_PERSON!r} is reserved: it stands for an erased person")
    return value


class RegisterPerson(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "p-17",
                    "display_name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "team": "billing",
                    "time_zone": "Europe/London",
                    "working_hours": {"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]},
                    "languages": ["en"],
                    "weekly_capacity": 2,
                }
            ]
        },
    )

    person_id: Annotated[PersonId | None, AfterValidator(_lower_case_id)] = Field(
        default=None,
        description="Chosen by the caller (e.g. an HR id); generated if left out. Lower case: "
        "it is the person's username at the identity provider, which keeps usernames in lower "
        "case, so a capitalised id could never log in as itself.",
    )
    display_name: DisplayName
    email: EmailStr
    team: Team
    manager_id: PersonId | None = None
    location: Location | None = None
    time_zone: TimeZone
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    languages: Languages = Field(default_factory=list)
    weekly_capacity: Capacity = 2
    away_periods: AwayPeriods = Field(default_factory=list)


_REQUIRED_PROFILE_FIELDS = ("display_name", "email", "team", "time_zone", "working_hours")


class UpdatePerson(_Request):
    """A partial update: only the fields sent change; `null` clears an optional field."""

    display_name: DisplayName | None = None
    email: EmailStr | None = None
    team: Team | None = None
    manager_id: PersonId | None = None
    location: Location | None = None
    time_zone: TimeZone | None = None
    working_hours: WorkingHours | None = None
    languages: Languages | None = None
    version: Version = None

    @field_validator(*_REQUIRED_PROFILE_FIELDS, mode="before")
    @classmethod
    def _required_not_cleared(cls, value: Any) -> Any:
        # Runs only for values sent: an explicit null on a field every person must have.
        if value is None:
            raise ValueError("cannot be cleared, leave it out to keep it")
        return value

    def changes(self) -> dict[str, Any]:
        sent = self.model_fields_set - {"version"}
        values = {name: getattr(self, name) for name in sent}
        if "languages" in values and values["languages"] is not None:
            values["languages"] = tuple(values["languages"])
        return values


class SkillOfferBody(_Request):
    level: Level
    description: Description = ""
    willing_to_teach: bool = Field(
        default=True,
        description="false: keep the skill on the profile but never be suggested for it",
    )
    weekly_capacity: Capacity = 1
    private: bool = Field(
        default=False,
        description="true: for matching only, not shown in people search or to colleagues",
    )
    version: Version = None


class OfferSkill(SkillOfferBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "skill": "k8s",
                    "level": 4,
                    "description": "Helm charts, debugging pods",
                    "weekly_capacity": 2,
                }
            ]
        },
    )

    skill: SkillName = Field(description="Any name or alias; stored as its canonical id.")


class SetLearningGoal(_Request):
    skill: SkillName
    target_level: Level
    version: Version = None


class SetAvailability(_Request):
    weekly_capacity: Capacity
    away_periods: AwayPeriods = Field(default_factory=list)
    working_hours: WorkingHours | None = Field(default=None, description="unchanged if left out")
    time_zone: TimeZone | None = Field(default=None, description="unchanged if left out")
    proposals_paused_until: date | None = Field(
        default=None,
        description="no proposals up to and including this day; they resume by themselves "
        "the day after. Left out: not paused",
    )
    version: Version = None


class PublicOfferView(BaseModel):
    """An offer as colleagues see it: what and how well, not how much time is left."""

    skill_id: str
    skill_name: str
    level: int
    description: str
    willing_to_teach: bool


class OfferView(PublicOfferView):
    weekly_capacity: int
    private: bool


class GoalView(BaseModel):
    skill_id: str
    skill_name: str
    target_level: int


class LearnedView(BaseModel):
    skill_id: str
    skill_name: str
    level: int
    teacher_id: str
    session_id: str
    acquired_at: datetime


class PersonView(BaseModel):
    """A person as the API shows them; an erased person keeps only id, status and version."""

    person_id: str
    status: Status
    away_until: date | None = None
    version: int
    display_name: str | None = None
    email: str | None = None
    team: str | None = None
    manager_id: str | None = None
    location: str | None = None
    time_zone: str | None = None
    working_hours: WorkingHours | None = None
    languages: list[str] = Field(default_factory=list)
    weekly_capacity: int
    away_periods: AwayPeriods = Field(default_factory=list)
    proposals_paused_until: date | None = None
    skills_offered: list[OfferView] = Field(default_factory=list)
    learning_goals: list[GoalView] = Field(default_factory=list)
    skills_learned: list[LearnedView] = Field(default_factory=list)
    sessions_taught: int
    erased_at: datetime | None = None


class PublicPersonView(BaseModel):
    """What any employee sees of a colleague: who they are and what they teach.

    E-mail, manager, location, away periods, goals and capacity are the person's
    (and admins') only.
    """

    model_config = ConfigDict(extra="forbid")

    person_id: str
    status: Status
    display_name: str | None = None
    team: str | None = None
    time_zone: str | None = None
    languages: list[str] = Field(default_factory=list)
    skills_offered: list[PublicOfferView] = Field(default_factory=list)
    skills_learned: list[LearnedView] = Field(default_factory=list)
    sessions_taught: int


class OfferingPerson(BaseModel):
    person_id: str
    display_name: str
    team: str
    time_zone: str
    status: Status
    offer: PublicOfferView


class OfferingPage(BaseModel):
    skill_id: str
    items: list[OfferingPerson]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )
