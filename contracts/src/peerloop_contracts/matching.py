"""Events published by the matching service. Key and `ce_subject`: `request_id`.

Every event of one help request, its proposals, its session and its feedback
shares the request's key and sequence, so a subscriber sees them in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from peerloop_contracts.base import Event, WireModel
from peerloop_contracts.common import (
    STORABLE,
    TEXT,
    Comment,
    Count,
    EntityId,
    Label,
    Level,
    PersonId,
    Reason,
    SessionFormat,
    SkillId,
    Task,
    Urgency,
    at_most,
)

OWNER = "matching"
"""Publishes every event of this module, and no other service may (see `Event.owner`)."""

MAX_SCORE_COMPONENTS = 20

UnmatchedReason = Literal["no_one_offers", "all_at_capacity", "all_declined"]
WaitingReason = Literal["no_one_offers", "all_at_capacity", "all_away", "all_declined"]
"""Why a request waits; `all_away` (everyone able is away) ends as `all_at_capacity`."""


class _RequestEvent(Event):
    owner: ClassVar[str] = OWNER
    aggregate: ClassVar[str] = "request_id"

    request_id: str = Field(min_length=1, max_length=64)
    requester_id: PersonId


class HelpRequested(_RequestEvent):
    """Someone asked for help with a skill, tied to the task in hand.

    Emitted by matching when a help request is created. Key: `request_id`.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "skill_id": "mongodb",
    "desired_level": 3, "task": "Tune a slow aggregation for the billing report",
    "needed_by": "2026-12-04T17:00:00Z", "urgency": "high", "format": "pairing",
    "max_minutes": 60, "sequence": 1}`
    """

    event_name: ClassVar[str] = "help-requested"

    skill_id: SkillId
    desired_level: Level
    task: Task
    needed_by: datetime | None = None
    urgency: Urgency = "normal"
    format: SessionFormat = "call"
    max_minutes: int = Field(default=60, ge=5, le=480)


class HelpRequestCancelled(_RequestEvent):
    """The requester cancelled a help request. Emitted by matching. Key: `request_id`.

    Example: `{"request_id": "r-9", "requester_id": "p-42", "skill_id": "mongodb",
    "reason": "solved it myself", "sequence": 3}`
    """

    event_name: ClassVar[str] = "help-request-cancelled"

    skill_id: SkillId
    reason: Reason | None = None


class HelpRequestUnmatched(_RequestEvent):
    """Nobody took a help request; it is reported, never silently dropped.

    A request nobody can take waits first (`help-request-waiting`); this ends it at its
    `needed_by` or after the longest wait matching allows.

    Emitted by matching. Key: `request_id`. `reason` is one of `no_one_offers`,
    `all_at_capacity`, `all_declined`.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "skill_id": "cobol",
    "reason": "no_one_offers", "detail": "nobody offers cobol or a related skill",
    "candidates_tried": 0, "sequence": 2}`
    """

    event_name: ClassVar[str] = "help-request-unmatched"

    skill_id: SkillId
    reason: UnmatchedReason
    detail: Annotated[str, at_most(500), TEXT] = ""
    candidates_tried: Count = 0
    waited_since: datetime | None = Field(
        default=None,
        description="set when the request waited (`help-request-waiting`) until its "
        "`needed_by` or the longest wait, and nobody came",
    )


class HelpRequestWaiting(_RequestEvent):
    """Nobody can take a help request right now; it waits for a helper instead of ending.

    Emitted by matching when a request starts waiting (again, after the helper found
    for it declined or did not answer). Key: `request_id`. `reason` is one of
    `no_one_offers`, `all_at_capacity`, `all_away`, `all_declined`. The request is
    proposed as soon as someone offers the skill, comes back or has capacity again
    (then `match-proposed` carries `waited_since`); at `until` it ends with
    `help-request-unmatched`.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "skill_id": "cobol",
    "reason": "no_one_offers", "detail": "nobody offers cobol or a related skill",
    "candidates_tried": 0, "waiting_since": "2026-12-02T09:00:00Z",
    "until": "2026-12-16T09:00:00Z", "sequence": 2}`
    """

    event_name: ClassVar[str] = "help-request-waiting"

    skill_id: SkillId
    reason: WaitingReason
    detail: Annotated[str, at_most(500), TEXT] = ""
    candidates_tried: Count = 0
    waiting_since: datetime
    until: datetime = Field(description="when the request stops waiting and ends unmatched")


class ScoreComponent(WireModel):
    """One term of a match score: why this helper was chosen."""

    name: Label = Field(examples=["skill_fit"])
    weight: float = Field(allow_inf_nan=False)
    value: float = Field(allow_inf_nan=False, description="normalised 0..1")
    contribution: float = Field(allow_inf_nan=False, description="weight × value")
    explanation: Label


class MatchProposed(_RequestEvent):
    """The best available helper was asked to take a help request.

    Emitted by matching. Key: `request_id`. `breakdown` explains the score.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "proposal_id": "pr-1",
    "helper_id": "p-17", "skill_id": "mongodb", "task": "Tune a slow aggregation",
    "score": 0.81, "breakdown": [{"name": "skill_fit", "weight": 0.3, "value": 1.0,
    "contribution": 0.3, "explanation": "offers mongodb"}], "attempt": 1,
    "expires_at": "2026-12-02T09:00:00Z", "sequence": 2}`
    """

    event_name: ClassVar[str] = "match-proposed"

    proposal_id: EntityId
    helper_id: PersonId
    skill_id: SkillId
    task: Annotated[str, at_most(2000), TEXT]
    score: float = Field(allow_inf_nan=False)
    breakdown: Annotated[list[ScoreComponent], at_most(MAX_SCORE_COMPONENTS)]
    attempt: Annotated[int, STORABLE] = Field(
        ge=1, description="1 for the first helper asked, 2 for the next …"
    )
    expires_at: datetime
    waited_since: datetime | None = Field(
        default=None,
        description="set when this proposal ends a wait (`help-request-waiting`): "
        "since when the request waited",
    )


class MatchAccepted(_RequestEvent):
    """The proposed helper accepted; a session exists. Emitted by matching. Key: `request_id`.

    Example: `{"request_id": "r-9", "requester_id": "p-42", "proposal_id": "pr-2",
    "helper_id": "p-23", "session_id": "s-3", "skill_id": "mongodb", "sequence": 5}`
    """

    event_name: ClassVar[str] = "match-accepted"

    proposal_id: EntityId
    helper_id: PersonId
    session_id: EntityId
    skill_id: SkillId
    scheduled_at: datetime | None = None
    minutes: int | None = Field(
        default=None, ge=5, le=480, description="the session's planned length (the request's)"
    )


class MatchDeclined(_RequestEvent):
    """The proposed helper declined. Emitted by matching. Key: `request_id`.

    `will_retry` says whether matching goes on to the next candidate.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "proposal_id": "pr-1",
    "helper_id": "p-17", "skill_id": "mongodb", "reason": "on leave", "will_retry": true,
    "sequence": 3}`
    """

    event_name: ClassVar[str] = "match-declined"

    proposal_id: EntityId
    helper_id: PersonId
    skill_id: SkillId
    reason: Reason | None = None
    will_retry: bool


class MatchExpired(_RequestEvent):
    """A proposal got no answer before it expired. Emitted by matching. Key: `request_id`.

    Example: `{"request_id": "r-9", "requester_id": "p-42", "proposal_id": "pr-1",
    "helper_id": "p-17", "skill_id": "mongodb", "will_retry": true, "sequence": 3}`
    """

    event_name: ClassVar[str] = "match-expired"

    proposal_id: EntityId
    helper_id: PersonId
    skill_id: SkillId
    will_retry: bool


class SessionCompleted(_RequestEvent):
    """Both participants confirmed a session happened: the learner learned something.

    Emitted by matching. Key: `request_id`.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "session_id": "s-3",
    "learner_id": "p-42", "teacher_id": "p-17", "skill_id": "mongodb", "level": 3,
    "duration_minutes": 45, "completed_at": "2026-12-03T15:10:00Z", "sequence": 6}`
    """

    event_name: ClassVar[str] = "session-completed"

    session_id: EntityId
    learner_id: PersonId
    teacher_id: PersonId
    skill_id: SkillId
    level: Level
    duration_minutes: int = Field(ge=1, le=1440)
    completed_at: datetime


class SessionNotHappened(_RequestEvent):
    """A participant reported that an accepted session did not take place.

    Emitted by matching. Key: `request_id`.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "session_id": "s-3",
    "learner_id": "p-42", "teacher_id": "p-23", "reported_by": "p-23", "sequence": 6}`
    """

    event_name: ClassVar[str] = "session-not-happened"

    session_id: EntityId
    learner_id: PersonId
    teacher_id: PersonId
    reported_by: PersonId


class FeedbackGiven(_RequestEvent):
    """A participant rated a completed session. Emitted by matching. Key: `request_id`.

    Example: `{"request_id": "r-9", "requester_id": "p-42", "session_id": "s-3",
    "from_id": "p-42", "to_id": "p-23", "role_of_rated": "teacher", "rating": 5,
    "comment": "found the missing index", "sequence": 7}`
    """

    event_name: ClassVar[str] = "feedback-given"

    session_id: EntityId
    from_id: PersonId
    to_id: PersonId
    role_of_rated: Literal["teacher", "learner"]
    rating: int = Field(ge=1, le=5)
    comment: Comment | None = None


class SessionRescheduled(_RequestEvent):
    """A participant moved an accepted session to another time.

    Emitted by matching. Key: `request_id`. `revision` counts the session's changes
    (0 when accepted), so a calendar copy of it knows which version is newer.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "session_id": "s-3",
    "learner_id": "p-42", "teacher_id": "p-17", "skill_id": "mongodb",
    "scheduled_at": "2026-12-04T14:00:00Z", "minutes": 60, "revision": 1,
    "rescheduled_by": "p-17", "sequence": 6}`
    """

    event_name: ClassVar[str] = "session-rescheduled"

    session_id: EntityId
    learner_id: PersonId
    teacher_id: PersonId
    skill_id: SkillId
    scheduled_at: datetime
    minutes: int = Field(ge=5, le=480)
    revision: Annotated[int, STORABLE] = Field(ge=1)
    rescheduled_by: PersonId


class SessionCancelled(_RequestEvent):
    """A participant called off an accepted session before it took place.

    Emitted by matching. Key: `request_id`. `revision` is higher than that of every
    earlier version of the session.
    Example: `{"request_id": "r-9", "requester_id": "p-42", "session_id": "s-3",
    "learner_id": "p-42", "teacher_id": "p-17", "skill_id": "mongodb", "revision": 2,
    "cancelled_by": "p-42", "reason": "the bug fixed itself", "sequence": 7}`
    """

    event_name: ClassVar[str] = "session-cancelled"

    session_id: EntityId
    learner_id: PersonId
    teacher_id: PersonId
    skill_id: SkillId
    revision: Annotated[int, STORABLE] = Field(ge=1)
    cancelled_by: PersonId
    reason: Reason | None = None


EVENTS: tuple[type[Event], ...] = (
    HelpRequested,
    HelpRequestCancelled,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    MatchProposed,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    SessionCompleted,
    SessionNotHappened,
    FeedbackGiven,
    SessionRescheduled,
    SessionCancelled,
)
