"""Every value the HTTP layer accepts, the event it becomes accepts too.

Hypothesis generates request bodies (any text, any number, long lists); whatever a
service's request schema lets through must pass the contract's event model, or the
service would answer 500 when it publishes the event.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from peerloop_contracts.matching import FeedbackGiven, HelpRequested, MatchDeclined
from peerloop_contracts.profiles import AvailabilityChanged, ProfileRegistered, SkillOffered
from peerloop_contracts.skills import default_catalogue
from peerloop_matching.entrypoints.schemas import DeclineIn, FeedbackIn, NewHelpRequestIn
from peerloop_profiles.domain.rules import skill_name
from peerloop_profiles.entrypoints.schemas import OfferSkill, RegisterPerson, SetAvailability
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
text = (
    st.text(max_size=40)
    | st.text(alphabet="ab \n\t\x00\x85\u2028-", max_size=40)
    | st.text(alphabet="x", min_size=1990, max_size=2010)
)
short = st.text(max_size=120) | st.sampled_from(["Ada", "k8s", "Europe/Berlin", "en"])
ints = (
    st.integers(min_value=0, max_value=6) | st.integers(min_value=-10, max_value=60) | st.integers()
)
dates = st.dates().map(str)


def accepted(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError:
        reject()


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "person_id": st.from_regex(r"^[a-z0-9_.:-]{1,64}$", fullmatch=True),
            "display_name": short,
            "email": st.emails(),
            "team": short,
            "time_zone": st.sampled_from(["Europe/Berlin", "Asia/Kolkata"]) | short,
        },
        optional={
            "location": short,
            "languages": st.lists(short, max_size=25),
            "working_hours": st.fixed_dictionaries(
                {"days": st.lists(st.integers(1, 7), max_size=9)}
            ),
        },
    )
)
def test_a_registration_profiles_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    request = accepted(RegisterPerson, body)
    ProfileRegistered(**request.model_dump(exclude={"weekly_capacity", "away_periods"}), sequence=1)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"skill": short, "level": ints},
        optional={"description": text, "weekly_capacity": ints},
    )
)
def test_an_offer_profiles_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    offer = accepted(OfferSkill, body)
    SkillOffered(
        person_id="p-1",
        skill_id=offer.skill,
        skill_name=skill_name(offer.skill),
        level=offer.level,
        description=offer.description,
        willing_to_teach=offer.willing_to_teach,
        weekly_capacity=offer.weekly_capacity,
        sequence=1,
    )


@FUZZ
@given(
    st.fixed_dictionaries(
        {"weekly_capacity": ints},
        optional={
            "away_periods": st.lists(
                st.fixed_dictionaries({"start": dates, "end": dates}), max_size=60
            ),
            "time_zone": short,
        },
    )
)
def test_availability_profiles_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    change = accepted(SetAvailability, body)
    AvailabilityChanged(
        person_id="p-1",
        weekly_capacity=change.weekly_capacity,
        time_zone=change.time_zone or "Europe/Berlin",
        working_hours=change.working_hours or {},
        away_periods=change.away_periods,
        sequence=1,
    )


@FUZZ
@given(
    st.fixed_dictionaries(
        {"skill": short, "desired_level": ints, "task": text},
        optional={"max_minutes": ints, "urgency": short, "format": short},
    )
)
def test_a_help_request_matching_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    ask = accepted(NewHelpRequestIn, body)
    HelpRequested(
        request_id="r-1",
        requester_id="p-1",
        skill_id=default_catalogue().canonical(ask.skill),
        **ask.model_dump(exclude={"skill"}),
        sequence=1,
    )


@FUZZ
@given(st.fixed_dictionaries({}, optional={"reason": text, "expected_version": ints}))
def test_a_decline_reason_matching_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    decline = accepted(DeclineIn, body)
    MatchDeclined(
        request_id="r-1",
        requester_id="p-1",
        proposal_id="r-1.p1",
        helper_id="p-2",
        skill_id="mongodb",
        reason=decline.reason,
        will_retry=True,
        sequence=max(1, decline.expected_version or 1),
    )


@FUZZ
@given(st.fixed_dictionaries({"rating": ints}, optional={"comment": text}))
def test_feedback_matching_accepts_makes_a_valid_event(body: dict[str, Any]) -> None:
    feedback = accepted(FeedbackIn, body)
    FeedbackGiven(
        request_id="r-1",
        requester_id="p-1",
        session_id="r-1.s",
        from_id="p-1",
        to_id="p-2",
        role_of_rated="teacher",
        rating=feedback.rating,
        comment=feedback.comment,
        sequence=1,
    )
