"""What one learning event adds to the facts: a partial request or person fact.

`at` is the event's own time (its CloudEvents `time`), so a replay dates every fact as
the live run did. Person ids pass through `token_of`, which the application supplies
(a person's opaque token, or ERASED once they were erased).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from peerloop_contracts import matching, profiles
from peerloop_contracts.base import Event

from peerloop_insights.domain.facts import PersonFacts, RequestFacts

TokenOf = Callable[[str], str]


@dataclass(frozen=True)
class RequestChange:
    request_id: str
    partial: RequestFacts


@dataclass(frozen=True)
class PersonChange:
    person_id: str
    """The person's real id: the application turns it into their token."""
    partial: PersonFacts


Change = RequestChange | PersonChange


class _AboutSkill(Protocol):
    skill_id: str


class _AboutPerson(Protocol):
    person_id: str


class _AboutRequest(Protocol):
    """What every matching event carries (their shared base class is private)."""

    request_id: str
    requester_id: str


REQUEST_EVENTS: tuple[type[Event], ...] = (
    matching.HelpRequested,
    matching.HelpRequestCancelled,
    matching.HelpRequestUnmatched,
    matching.MatchProposed,
    matching.MatchAccepted,
    matching.MatchDeclined,
    matching.MatchExpired,
    matching.SessionCompleted,
    matching.SessionNotHappened,
    matching.FeedbackGiven,
)
PERSON_EVENTS: tuple[type[Event], ...] = (
    profiles.ProfileRegistered,
    profiles.ProfileUpdated,
    profiles.SkillOffered,
    profiles.SkillWithdrawn,
    profiles.SkillAcquired,
)
CONSUMED_EVENTS: tuple[type[Event], ...] = (
    *REQUEST_EVENTS,
    *PERSON_EVENTS,
    profiles.ProfileErased,
)
"""Everything insights reads. ProfileErased is applied by the application, not merged."""

_STATE_OF: dict[type[Event], str] = {
    matching.HelpRequested: "open",
    matching.HelpRequestCancelled: "cancelled",
    matching.HelpRequestUnmatched: "unmatched",
    matching.MatchProposed: "proposed",
    matching.MatchAccepted: "accepted",
    matching.MatchDeclined: "open",
    matching.MatchExpired: "open",
    matching.SessionCompleted: "completed",
    matching.SessionNotHappened: "not_happened",
}


_PERSON_FIELDS = ("requester_id", "helper_id", "teacher_id", "learner_id", "person_id")
# Looked up once per type: asking a pydantic model for a field it lacks is slow.
_NAMING: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(n for n in _PERSON_FIELDS if n in cls.model_fields) for cls in CONSUMED_EVENTS
}
_HAS_SKILL = frozenset(cls for cls in CONSUMED_EVENTS if "skill_id" in cls.model_fields)


def person_ids(event: Event) -> tuple[str, ...]:
    """Every person an event names (the ones `token_of` will be asked about)."""
    names = _NAMING.get(type(event), ())
    return tuple(v for n in names if isinstance(v := getattr(event, n), str))


def change_of(event: Event, at: datetime, token_of: TokenOf) -> Change | None:
    if isinstance(event, REQUEST_EVENTS):
        return _request(event, at, token_of)
    if isinstance(event, PERSON_EVENTS):
        return PersonChange(cast(_AboutPerson, event).person_id, _person(event, at))
    return None


def _request(event: Event, at: datetime, token_of: TokenOf) -> RequestChange:
    about = cast(_AboutRequest, event)
    partial = RequestFacts(
        requester=token_of(about.requester_id),
        skill=cast(_AboutSkill, event).skill_id if type(event) in _HAS_SKILL else None,
    )
    state = _STATE_OF.get(type(event))
    if state is not None:
        partial.state = (event.sequence, state)
    match event:
        case matching.HelpRequested():
            partial.requested_at = at
        case matching.MatchProposed():
            partial.proposed_at = at
        case matching.MatchAccepted():
            partial.accepted_at = at
            partial.teacher = token_of(event.helper_id)
            partial.learner = token_of(event.requester_id)
        case matching.SessionCompleted():
            partial.completed_at = event.completed_at
            partial.teacher = token_of(event.teacher_id)
            partial.learner = token_of(event.learner_id)
        case matching.SessionNotHappened():
            partial.not_happened_at = at
            partial.teacher = token_of(event.teacher_id)
            partial.learner = token_of(event.learner_id)
        case matching.FeedbackGiven():
            if event.role_of_rated == "teacher":
                partial.teacher_rating = (event.sequence, event.rating)
            else:
                partial.learner_rating = (event.sequence, event.rating)
        case _:
            pass
    return RequestChange(about.request_id, partial)


def _person(event: Event, at: datetime) -> PersonFacts:
    match event:
        case profiles.ProfileRegistered() | profiles.ProfileUpdated():
            return PersonFacts(team=(event.sequence, event.team))
        case profiles.SkillOffered():
            offered = event.willing_to_teach
            return PersonFacts(
                offers={event.skill_id: (event.sequence, offered)},
                first_offered={event.skill_id: at} if offered else {},
            )
        case profiles.SkillWithdrawn():
            return PersonFacts(offers={event.skill_id: (event.sequence, False)})
        case profiles.SkillAcquired():
            return PersonFacts(acquired={event.skill_id: event.acquired_at})
        case _:
            return PersonFacts()
