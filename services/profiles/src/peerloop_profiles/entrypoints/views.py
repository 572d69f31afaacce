"""Domain values to response bodies."""

from __future__ import annotations

from datetime import date

from peerloop_profiles.domain.model import OfferedSkill, Person
from peerloop_profiles.domain.rules import skill_name
from peerloop_profiles.entrypoints.schemas import (
    GoalView,
    LearnedView,
    OfferingPerson,
    OfferView,
    PersonView,
    PublicOfferView,
    PublicPersonView,
)


def offer_view(offer: OfferedSkill) -> OfferView:
    return OfferView(skill_name=skill_name(offer.skill_id), **offer.model_dump())


def public_offer_view(offer: OfferedSkill) -> PublicOfferView:
    return PublicOfferView.model_validate(
        offer_view(offer).model_dump(exclude={"weekly_capacity", "private"})
    )


def person_view(person: Person, today: date) -> PersonView:
    away = person.away_on(today)
    details = person.details.model_dump() if person.details else {}
    return PersonView(
        person_id=person.person_id,
        status=person.status_on(today),
        away_until=away.end if away else None,
        version=person.version,
        **details,
        weekly_capacity=person.weekly_capacity,
        away_periods=list(person.away_periods),
        proposals_paused_until=person.proposals_paused_until,
        skills_offered=[offer_view(s) for s in person.skills_offered],
        learning_goals=[
            GoalView(skill_name=skill_name(g.skill_id), **g.model_dump())
            for g in person.learning_goals
        ],
        skills_learned=[
            LearnedView(skill_name=skill_name(s.skill_id), **s.model_dump())
            for s in person.skills_learned
        ],
        sessions_taught=len(person.sessions_taught),
        erased_at=person.erased_at,
    )


def public_person_view(person: Person, today: date) -> PublicPersonView:
    details = person.details
    return PublicPersonView(
        person_id=person.person_id,
        status=person.status_on(today),
        display_name=details.display_name if details else None,
        team=details.team if details else None,
        time_zone=details.time_zone if details else None,
        languages=list(details.languages) if details else [],
        skills_offered=[public_offer_view(s) for s in person.shown_offers()],
        skills_learned=[
            LearnedView(skill_name=skill_name(s.skill_id), **s.model_dump())
            for s in person.skills_learned
        ],
        sessions_taught=len(person.sessions_taught),
    )


def offering_person(person: Person, skill_id: str, today: date) -> OfferingPerson:
    offer = person.offered(skill_id)
    # Only people offering the skill are listed, and erasure withdraws every offer.
    assert offer is not None
    assert person.details is not None
    return OfferingPerson(
        person_id=person.person_id,
        display_name=person.details.display_name,
        team=person.details.team,
        time_zone=person.details.time_zone,
        status=person.status_on(today),
        offer=public_offer_view(offer),
    )
