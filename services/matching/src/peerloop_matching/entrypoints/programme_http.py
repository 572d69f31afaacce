"""HTTP API of programmes (admins only) and of "never pair me with them again" (a person).

Thin, as `http.py`: parse, check access, call the use case, answer with a view. The
refusals (`DomainError` subclasses) are mapped by the app's one `REFUSALS` table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from peerloop_contracts.common import MAX_STORED_INT, Label, Level, PersonId, SkillId
from peerloop_contracts.envelope import utc_now
from peerloop_contracts.matching import ScoreComponent
from peerloop_contracts.programmes import MAX_GOAL_SKILLS, Adjustment
from peerloop_runtime.auth import CurrentPrincipal, require_admin, require_person
from peerloop_runtime.http_errors import field_error
from pydantic import BaseModel, ConfigDict, Field, model_validator

from peerloop_matching.application.org_rules import OrgRules
from peerloop_matching.application.programmes import NewProgramme, Programmes
from peerloop_matching.domain.programmes.programme import (
    PlannedPair,
    Programme,
    ProgrammeFigures,
    ProgrammeState,
    Unplaced,
)
from peerloop_matching.domain.programmes.rules import TeamRule
from peerloop_matching.entrypoints.access import NOT_AGAIN_RULE, PROGRAMME_RULE

MAX_COHORT = 20_000
MAX_CAPACITY = 1_000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Versioned(_Body):
    expected_version: int | None = Field(default=None, ge=0, le=MAX_STORED_INT)


class NewProgrammeIn(_Body):
    name: Label = Field(min_length=1)
    goal_skills: list[SkillId] = Field(min_length=1, max_length=MAX_GOAL_SKILLS)
    level: Level = Field(default=2, description="mentors offer a goal skill at this level or more")
    cohort: list[PersonId] | None = Field(
        default=None, max_length=MAX_COHORT, description="the mentees; or give `cohort_team`"
    )
    cohort_team: Label | None = Field(default=None, min_length=1)
    mentors: list[PersonId] | None = Field(
        default=None,
        max_length=MAX_COHORT * 10,
        description="opted-in mentors; omitted: anyone offering a goal skill",
    )
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="mentees per mentor")
    capacities: dict[PersonId, Annotated[int, Field(ge=0, le=MAX_CAPACITY)]] = Field(
        default_factory=dict, max_length=MAX_COHORT * 10
    )
    starts_on: date
    ends_on: date
    team_rule: TeamRule = "any"
    fairness: bool = Field(default=False, description="raise the worst-off mentee's score first")
    per_team: int | None = Field(
        default=None, ge=1, le=MAX_CAPACITY, description="at most this many of one team per mentor"
    )

    @model_validator(mode="after")
    def _one_cohort(self) -> NewProgrammeIn:
        if (self.cohort is None) == (self.cohort_team is None):
            raise ValueError("give the cohort as `cohort` (people) or `cohort_team`, not both")
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class AdjustIn(_Versioned):
    change: Adjustment
    mentor_id: PersonId
    mentee_id: PersonId | None = None
    capacity: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)

    @model_validator(mode="after")
    def _complete(self) -> AdjustIn:
        if self.change == "capacity" and self.capacity is None:
            raise ValueError("a capacity change needs `capacity`")
        if self.change != "capacity" and self.mentee_id is None:
            raise ValueError(f"{self.change} needs `mentee_id`")
        return self


class StepIn(_Versioned):
    pass


class PairView(BaseModel):
    mentee_id: str
    mentor_id: str
    skill_id: str
    score: float
    breakdown: list[ScoreComponent]
    pinned: bool
    request_id: str | None
    attempt: int

    @classmethod
    def of(cls, pair: PlannedPair) -> PairView:
        return cls.model_validate(pair.model_dump())


class ProgrammeView(BaseModel):
    programme_id: str
    version: int
    state: ProgrammeState
    name: str
    goal_skills: list[str]
    level: int
    cohort: list[str]
    cohort_team: str | None
    mentors: list[str] | None
    capacity: int
    capacities: dict[str, int]
    starts_on: date
    ends_on: date
    team_rule: TeamRule
    fairness: bool
    per_team: int | None
    pins: list[tuple[str, str]]
    forbids: list[tuple[str, str]]
    pairs: list[PairView]
    unassigned: list[Unplaced]
    figures: ProgrammeFigures | None
    created_by: str
    created_at: datetime
    previewed_at: datetime | None
    published_at: datetime | None

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeView:
        data = programme.model_dump(exclude={"sequence", "pairs"})
        return cls.model_validate(
            {**data, "pairs": [PairView.of(p) for p in sorted(programme.pairs, key=_mentee)]}
        )


class NotAgainView(BaseModel):
    person_id: str
    not_again: list[str] = Field(description="everyone the caller asked not to be paired with")


def _mentee(pair: PlannedPair) -> str:
    return pair.mentee_id


def _programmes(request: Request) -> Programmes:
    programmes: Programmes = request.app.state.service.programmes
    return programmes


def _rules(request: Request) -> OrgRules:
    rules: OrgRules = request.app.state.service.rules
    return rules


UseCases = Annotated[Programmes, Depends(_programmes)]
Rules = Annotated[OrgRules, Depends(_rules)]
ProgrammeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

router = APIRouter(prefix="/programmes", tags=["programmes"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "not an admin"},
    404: {"description": "no such programme"},
    409: {"description": "not possible in the programme's state, or `expected_version` is stale"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    summary="Create a programme (draft; publishes programme-created)",
)
async def create_programme(
    body: NewProgrammeIn, caller: CurrentPrincipal, use_cases: UseCases
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    programme = await use_cases.create(
        NewProgramme(created_by=caller.person_id or caller.subject, **body.model_dump())
    )
    return ProgrammeView.of(programme)


@router.get("/{programme_id}", responses=_ERRORS)
async def get_programme(
    programme_id: ProgrammeId, caller: CurrentPrincipal, use_cases: UseCases
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    return ProgrammeView.of(await use_cases.get(programme_id))


@router.post(
    "/{programme_id}/preview",
    responses=_ERRORS,
    summary="Solve the assignment: each pair's breakdown and the figures (programme-previewed)",
)
async def preview(
    programme_id: ProgrammeId,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: StepIn | None = None,
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    body = body or StepIn()
    return ProgrammeView.of(await use_cases.preview(programme_id, body.expected_version))


@router.post(
    "/{programme_id}/adjust",
    responses=_ERRORS,
    summary="Pin or forbid a pair, or change a mentor's capacity; preview again after",
)
async def adjust(
    programme_id: ProgrammeId, body: AdjustIn, caller: CurrentPrincipal, use_cases: UseCases
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    programme = await use_cases.adjust(
        programme_id,
        body.change,
        mentor_id=body.mentor_id,
        mentee_id=body.mentee_id,
        capacity=body.capacity,
        expected_version=body.expected_version,
    )
    return ProgrammeView.of(programme)


@router.post(
    "/{programme_id}/publish",
    responses=_ERRORS,
    summary="Propose every pair to its mentor as a help request (programme-published)",
)
async def publish(
    programme_id: ProgrammeId,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: StepIn | None = None,
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    body = body or StepIn()
    return ProgrammeView.of(await use_cases.publish(programme_id, body.expected_version))


@router.post("/{programme_id}/close", responses=_ERRORS, summary="Close (programme-closed)")
async def close(
    programme_id: ProgrammeId,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: StepIn | None = None,
) -> ProgrammeView:
    require_admin(caller, PROGRAMME_RULE)
    body = body or StepIn()
    return ProgrammeView.of(await use_cases.close(programme_id, body.expected_version))


people_router = APIRouter(prefix="/people/me/not-again", tags=["pairing rules"])


@people_router.get("", summary="Whom the caller asked never to be paired with again")
async def not_again(caller: CurrentPrincipal, rules: Rules) -> NotAgainView:
    person = require_person(caller, NOT_AGAIN_RULE)
    return NotAgainView(person_id=person, not_again=await rules.asked_by(person))


@people_router.put(
    "/{other_id}",
    summary="Never propose the caller and this person to each other again (either way)",
    responses={422: {"description": "the caller named themselves"}},
)
async def add_not_again(
    other_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
    caller: CurrentPrincipal,
    rules: Rules,
) -> NotAgainView:
    person = require_person(caller, NOT_AGAIN_RULE)
    if other_id == person:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            field_error(["path", "other_id"], "a person is never paired with themselves", "self"),
        )
    return NotAgainView(
        person_id=person, not_again=await rules.not_again(person, other_id, utc_now())
    )
