"""HTTP routes: parse, call one use case, shape the answer. Rules live in the domain."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from peerloop_contracts.common import PersonId
from peerloop_runtime.auth import CurrentPrincipal
from peerloop_runtime.rate_limit import rate_limited
from pydantic import AfterValidator

from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.bootstrap import ProfilesService
from peerloop_profiles.domain.model import LearningGoal, OfferedSkill, Person, ProfileDetails
from peerloop_profiles.entrypoints.access import may_change, may_register, sees_private_part
from peerloop_profiles.entrypoints.schemas import (
    OfferingPage,
    OfferSkill,
    PersonView,
    PublicPersonView,
    RegisterPerson,
    SetAvailability,
    SetLearningGoal,
    SkillOfferBody,
    UpdatePerson,
    to_skill_id,
)
from peerloop_profiles.entrypoints.views import offering_person, person_view, public_person_view

ProfileWrite = rate_limited("profile_writes")
"""Every creating or changing call counts against the caller's profile-writes limit."""

router = APIRouter(prefix="/people", tags=["people"])

PersonPath = Annotated[PersonId, Path(description="The person's id")]
SkillPath = Annotated[
    str,
    Path(min_length=1, max_length=100, description="Skill name or alias, e.g. k8s"),
    AfterValidator(to_skill_id),
]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=64,
        description="The version (ETag) you read; 409 if the person changed since.",
        examples=['"3"'],
    ),
]
TraceParent = Annotated[str | None, Header(include_in_schema=False)]

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
"""Up to 18 digits: every version the store's int64 holds, and no number beyond it."""

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such person (or skill/goal)"}}
CONFLICT: Responses = {409: {"description": "Stale version, or the person was erased"}}


def service(request: Request) -> Profiles:
    built: ProfilesService = request.app.state.service
    return built.profiles


Service = Annotated[Profiles, Depends(service)]


def _expected_version(if_match: str | None, body_version: int | None) -> int | None:
    if if_match is None:
        return body_version
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "if-match"),
                    "msg": 'must be a version number such as "3"',
                    "type": "value_error",
                }
            ]
        )
    return int(match.group(1))


def _today() -> datetime:
    return datetime.now(UTC)


def _answer(person: Person, response: Response) -> PersonView:
    response.headers["ETag"] = f'"{person.version}"'
    return person_view(person, _today().date())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a person",
    responses={409: {"description": "The person id is taken"}},
    dependencies=[ProfileWrite],
)
async def register(
    body: RegisterPerson,
    caller: CurrentPrincipal,
    svc: Service,
    response: Response,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `profile-registered` and `availability-changed`.

    A person registers themself (the id defaults to theirs); an admin or a provisioning
    service registers anyone (without an id, a new one is made).
    """
    person_id = may_register(caller, body.person_id)
    person = await svc.register(
        ProfileDetails(
            display_name=body.display_name,
            email=str(body.email),
            team=body.team,
            manager_id=body.manager_id,
            location=body.location,
            time_zone=body.time_zone,
            working_hours=body.working_hours,
            languages=tuple(body.languages),
        ),
        person_id=person_id,
        weekly_capacity=body.weekly_capacity,
        away_periods=body.away_periods,
        traceparent=traceparent,
    )
    response.headers["Location"] = f"/people/{person.person_id}"
    return _answer(person, response)


@router.get("", summary="People who offer a skill (paged by person id)")
async def people_offering(
    _caller: CurrentPrincipal,
    svc: Service,
    offers: Annotated[str, Query(min_length=1, max_length=100, description="skill or alias")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    after: Annotated[PersonId | None, Query(description="`next_after` of the last page")] = None,
) -> OfferingPage:
    skill_id, people = await svc.people_offering(offers, after=after, limit=limit + 1)
    page = people[:limit]
    today = _today().date()
    return OfferingPage(
        skill_id=skill_id,
        items=[offering_person(p, skill_id, today) for p in page],
        next_after=page[-1].person_id if len(people) > limit else None,
    )


@router.get(
    "/{person_id}",
    summary="Get a person: the whole profile for the person and admins, the public part for others",
    responses=NOT_FOUND,
)
async def get_person(
    person_id: PersonPath, caller: CurrentPrincipal, svc: Service, response: Response
) -> PersonView | PublicPersonView:
    person = await svc.get(person_id)
    if sees_private_part(caller, person_id):
        return _answer(person, response)
    return public_person_view(person, _today().date())


@router.patch(
    "/{person_id}",
    summary="Update a person's profile",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[ProfileWrite],
)
async def update_person(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    body: UpdatePerson,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `profile-updated` with the whole new profile, unless nothing changed."""
    may_change(caller, person_id)
    fields = body.changes()
    if "email" in fields:
        fields["email"] = str(fields["email"])
    person = await svc.update_profile(
        person_id,
        lambda details: details.model_copy(update=fields),
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.delete(
    "/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase a person (GDPR)",
    responses={**NOT_FOUND, **CONFLICT},
)
async def erase_person(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    svc: Service,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> None:
    """Removes all personal data and publishes `profile-erased`; erasing again is a no-op."""
    may_change(caller, person_id)
    await svc.erase(
        person_id, expected_version=_expected_version(if_match, None), traceparent=traceparent
    )


@router.post(
    "/{person_id}/skills",
    summary="Offer a skill",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[ProfileWrite],
)
async def offer_skill(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    body: OfferSkill,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `skill-offered`; offering a skill already offered replaces that offer."""
    may_change(caller, person_id)
    person = await svc.offer_skill(
        person_id,
        _offer(body.skill, body),
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.put(
    "/{person_id}/skills/{skill}",
    summary="Update an offered skill",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[ProfileWrite],
)
async def update_offer(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    skill: SkillPath,
    body: SkillOfferBody,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `skill-offered` with the new offer; 404 if the skill is not offered."""
    may_change(caller, person_id)
    person = await svc.offer_skill(
        person_id,
        _offer(skill, body),
        replace_only=True,
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.delete(
    "/{person_id}/skills/{skill}",
    summary="Withdraw an offered skill",
    responses={**NOT_FOUND, **CONFLICT},
)
async def withdraw_skill(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    skill: SkillPath,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `skill-withdrawn`."""
    may_change(caller, person_id)
    person = await svc.withdraw_skill(
        person_id,
        skill,
        expected_version=_expected_version(if_match, None),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.post(
    "/{person_id}/learning-goals",
    summary="Set a learning goal",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[ProfileWrite],
)
async def set_learning_goal(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    body: SetLearningGoal,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `learning-goal-set`; a goal for the same skill is replaced."""
    may_change(caller, person_id)
    person = await svc.set_learning_goal(
        person_id,
        LearningGoal(skill_id=body.skill, target_level=body.target_level),
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.delete(
    "/{person_id}/learning-goals/{skill}",
    summary="Remove a learning goal",
    responses={**NOT_FOUND, **CONFLICT},
)
async def remove_learning_goal(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    skill: SkillPath,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `learning-goal-removed`."""
    may_change(caller, person_id)
    person = await svc.remove_learning_goal(
        person_id,
        skill,
        expected_version=_expected_version(if_match, None),
        traceparent=traceparent,
    )
    return _answer(person, response)


@router.put(
    "/{person_id}/availability",
    summary="Set availability: capacity, away periods, working hours, time zone",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[ProfileWrite],
)
async def set_availability(
    person_id: PersonPath,
    caller: CurrentPrincipal,
    body: SetAvailability,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> PersonView:
    """Publishes `availability-changed`, unless nothing changed."""
    may_change(caller, person_id)
    person = await svc.set_availability(
        person_id,
        weekly_capacity=body.weekly_capacity,
        away_periods=body.away_periods,
        working_hours=body.working_hours,
        time_zone=body.time_zone,
        proposals_paused_until=body.proposals_paused_until,
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    return _answer(person, response)


def _offer(skill_id: str, body: SkillOfferBody) -> OfferedSkill:
    return OfferedSkill(
        skill_id=skill_id,
        level=body.level,
        description=body.description,
        willing_to_teach=body.willing_to_teach,
        weekly_capacity=body.weekly_capacity,
        private=body.private,
    )
