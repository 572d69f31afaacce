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
from peerloop_contracts.common import ERASED_PERSON
from peerloop_contracts.states import HelpRequestState, PersonState, ProposalState

from peerloop_insights.domain.facts import ERASED, PersonFacts, RequestFacts

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
STATE_RECORDS: tuple[type[Event], ...] = (PersonState, HelpRequestState)
"""The compacted state topics: a fresh deployment starts from them (see the README)."""
CONSUMED_EVENTS: tuple[type[Event], ...] = (
    *REQUEST_EVENTS,
    *PERSON_EVENTS,
    profiles.ProfileErased,
    *STATE_RECORDS,
)
"""Everything insights reads. ProfileErased (and a person state's tombstone) is applied
by the application, not merged."""

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


# A request state's status, as the change events name it: matching's `requested` and
# `waiting` are both a request still waiting for a helper (insights reads no
# help-request-waiting event), so a state and the events give one value.
_STATE_OF_STATUS: dict[str, str] = {
    "requested": "open",
    "waiting": "open",
    "proposed": "proposed",
    "accepted": "accepted",
    "completed": "completed",
    "not_happened": "not_happened",
    "unmatched": "unmatched",
    "cancelled": "cancelled",
}


def person_ids(event: Event) -> tuple[str, ...]:
    """Every person an event names (the ones `token_of` will be asked about)."""
    if isinstance(event, HelpRequestState):
        named = [event.requester_id, *_pair(event)]
        return tuple(p for p in named if p is not None and p != ERASED_PERSON)
    names = _NAMING.get(type(event), ())
    return tuple(v for n in names if isinstance(v := getattr(event, n), str))


def change_of(event: Event, at: datetime, token_of: TokenOf) -> Change | None:
    if isinstance(event, HelpRequestState):
        return RequestChange(event.request_id, request_of_state(event, token_of))
    if isinstance(event, PersonState):
        return PersonChange(event.person_id, person_of_state(event, at))
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


# ---------------------------------------------------------------- state records
# A state record is the bigger partial: everything its change events would have added,
# stamped with the state's sequence (the aggregate's after its last change), so merging
# it with those events, before or after, in any order, gives the same facts.


def _accepted(state: HelpRequestState) -> ProposalState | None:
    return next((p for p in state.proposals if p.status == "accepted"), None)


def _pair(state: HelpRequestState) -> tuple[str | None, str | None]:
    """The request's (teacher, learner), once a helper accepted it."""
    if state.session is not None:
        return state.session.teacher_id, state.session.learner_id
    accepted = _accepted(state)
    return (accepted.helper_id, state.requester_id) if accepted else (None, None)


def _token(person_id: str | None, token_of: TokenOf) -> str | None:
    if person_id is None:
        return None
    # Matching redacts an erased helper to the placeholder: never a person to look up.
    return ERASED if person_id == ERASED_PERSON else token_of(person_id)


def request_of_state(state: HelpRequestState, token_of: TokenOf) -> RequestFacts:
    teacher, learner = _pair(state)
    accepted = _accepted(state)
    session = state.session
    status = _STATE_OF_STATUS[state.status]
    stamp = state.sequence
    return RequestFacts(
        requester=_token(state.requester_id, token_of),
        skill=state.skill_id,
        teacher=_token(teacher, token_of),
        learner=_token(learner, token_of),
        requested_at=state.created_at,
        proposed_at=min((p.proposed_at for p in state.proposals), default=None),
        accepted_at=accepted.decided_at if accepted else None,
        completed_at=session.completed_at if session and status == "completed" else None,
        not_happened_at=state.updated_at if status == "not_happened" else None,
        state=(stamp, status),
        teacher_rating=(stamp, session.rating_of_teacher)
        if session and session.rating_of_teacher is not None
        else None,
        learner_rating=(stamp, session.rating_of_learner)
        if session and session.rating_of_learner is not None
        else None,
    )


def person_of_state(state: PersonState, at: datetime) -> PersonFacts:
    """`at` (the record's time) is only a bound on when an offer began: the earliest
    time merges, so the change event's own time wins wherever it was seen."""
    offered = sorted(o.skill_id for o in state.offers if o.willing_to_teach)
    acquired: dict[str, datetime] = {}
    for learned in state.learned:
        acquired[learned.skill_id] = min(
            acquired.get(learned.skill_id, learned.acquired_at), learned.acquired_at
        )
    return PersonFacts(
        team=(state.sequence, state.team),
        offer_list=(state.sequence, tuple(offered)),
        first_offered=dict.fromkeys(offered, at),
        acquired=acquired,
    )
