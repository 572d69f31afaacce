"""Who hears about an event, and as which kind of notification.

Pure: an event goes in, intents come out. The texts are rendered later from
templates with the context each intent carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from peerloop_contracts.base import Event
from peerloop_contracts.matching import (
    FeedbackGiven,
    HelpRequestCancelled,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    SessionCancelled,
    SessionCompleted,
    SessionRescheduled,
    UnmatchedReason,
    WaitingReason,
)
from peerloop_contracts.profiles import SkillAcquired
from peerloop_contracts.skills import default_catalogue

from peerloop_notifications.domain.calendar import CalendarSession
from peerloop_notifications.domain.kinds import Kind

NOTIFYING_EVENTS: tuple[type[Event], ...] = (
    MatchProposed,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    HelpRequestCancelled,
    SessionCompleted,
    FeedbackGiven,
    SkillAcquired,
    SessionRescheduled,
    SessionCancelled,
)

_SUGGESTIONS: dict[UnmatchedReason, str] = {
    "no_one_offers": (
        "Nobody offers this skill yet. Try a related skill, or post the question "
        "to your team channel; once you learn it, you could be the first to offer it."
    ),
    "all_at_capacity": (
        "Everyone who offers this skill is fully booked this week. Try again in a few "
        "days, or widen the request (a lower level or a later deadline)."
    ),
    "all_declined": (
        "The people asked could not take it this time. Rephrase the task with more "
        "detail, or ask again later."
    ),
}


_WAITING_BECAUSE: dict[WaitingReason, str] = {
    "no_one_offers": "nobody offers this skill yet",
    "all_at_capacity": "everyone who offers it is fully booked this week",
    "all_away": "everyone who offers it is away or has paused proposals",
    "all_declined": "the people asked could not take it",
}


@dataclass(frozen=True)
class Intent:
    """One person should hear about one event as one kind of notification."""

    recipient_id: str
    kind: Kind
    context: dict[str, Any] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    """Other people named in the text; their display names are looked up when rendering."""
    quoted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Words of other people the text quotes, per person (a task, a reason, a comment)."""
    deliver_at: datetime | None = None
    """Not before this moment, on any channel (reminders); None: at once."""
    pointless_after: datetime | None = None
    """Nobody needs it after this moment (the session it reminds of has begun)."""
    request_id: str | None = None
    links: dict[str, str | int] = field(default_factory=dict)
    """What the item is about (request, proposal, session, skill, level), so that an app can
    link it to the thing to act on; filled from the event by `intents_for`."""
    calendar: CalendarSession | None = None
    """The session version whose invitation the e-mail carries (set by the notifier,
    which knows which version is the newest)."""


LINK_FIELDS = ("request_id", "proposal_id", "session_id", "skill_id", "level")


def suggestion_for(reason: UnmatchedReason) -> str:
    return _SUGGESTIONS[reason]


def skill_label(skill_id: str) -> str:
    catalogue = default_catalogue()
    return catalogue.display_name(catalogue.canonical(skill_id))


REMINDER_LEAD = timedelta(hours=1)
DEFAULT_SESSION_MINUTES = 60
"""For a session accepted before events carried its length."""

CalendarEvent = MatchAccepted | SessionRescheduled | SessionCancelled


def booking_of(event: Event, known: CalendarSession | None) -> CalendarSession | None:
    """The session version an event describes, if it belongs in a calendar: one with a
    time, accepted or moved, or one called off that a calendar already holds (`known`)."""
    match event:
        case MatchAccepted(scheduled_at=datetime() as start):
            return CalendarSession(
                session_id=event.session_id,
                request_id=event.request_id,
                skill=skill_label(event.skill_id),
                starts_at=start,
                minutes=event.minutes or DEFAULT_SESSION_MINUTES,
                learner_id=event.requester_id,
                teacher_id=event.helper_id,
                revision=0,
            )
        case SessionRescheduled():
            return CalendarSession(
                session_id=event.session_id,
                request_id=event.request_id,
                skill=skill_label(event.skill_id),
                starts_at=event.scheduled_at,
                minutes=event.minutes,
                learner_id=event.learner_id,
                teacher_id=event.teacher_id,
                revision=event.revision,
            )
        case SessionCancelled() if known is not None:
            return replace(known, revision=event.revision, cancelled=True)
    return None


def _invitations(event: CalendarEvent) -> list[Intent]:
    """Both people hear of a session booked with a time, moved or called off."""
    if isinstance(event, MatchAccepted):
        if event.scheduled_at is None:
            return []
        learner, teacher = event.requester_id, event.helper_id
        change, start, reason = "booked", event.scheduled_at, None
    elif isinstance(event, SessionRescheduled):
        learner, teacher = event.learner_id, event.teacher_id
        change, start, reason = "moved", event.scheduled_at, None
    else:
        learner, teacher = event.learner_id, event.teacher_id
        change, start, reason = "cancelled", None, event.reason
    skill = skill_label(event.skill_id)
    quoted = {}
    if reason and isinstance(event, SessionCancelled):
        quoted = {event.cancelled_by: (reason,)}
    return [
        Intent(
            me,
            "session-invitation",
            {
                "skill": skill,
                "other_id": other,
                "session_id": event.session_id,
                "scheduled_at": start,
                "change": change,
                "reason": reason,
            },
            mentions=(other,),
            quoted={p: t for p, t in quoted.items() if p != me},
            request_id=event.request_id,
        )
        for me, other in ((learner, teacher), (teacher, learner))
    ]


def _accepted(event: MatchAccepted) -> list[Intent]:
    return [
        Intent(
            event.requester_id,
            "match-accepted",
            {
                "skill": skill_label(event.skill_id),
                "helper_id": event.helper_id,
                "session_id": event.session_id,
                "scheduled_at": event.scheduled_at,
            },
            mentions=(event.helper_id,),
        )
    ]


def _reminders(event: MatchAccepted | SessionRescheduled) -> list[Intent]:
    """Both people are reminded an hour before a scheduled session."""
    if event.scheduled_at is None:
        return []
    if isinstance(event, MatchAccepted):
        learner, teacher = event.requester_id, event.helper_id
    else:
        learner, teacher = event.learner_id, event.teacher_id
    pairs = ((learner, teacher), (teacher, learner))
    return [
        Intent(
            me,
            "session-reminder",
            {
                "skill": skill_label(event.skill_id),
                "other_id": other,
                "session_id": event.session_id,
                "scheduled_at": event.scheduled_at,
            },
            mentions=(other,),
            deliver_at=event.scheduled_at - REMINDER_LEAD,
            pointless_after=event.scheduled_at,
            request_id=event.request_id,
        )
        for me, other in pairs
    ]


def _proposed(event: MatchProposed) -> list[Intent]:
    return [
        Intent(
            event.helper_id,
            "match-proposed",
            {
                "skill": skill_label(event.skill_id),
                "task": event.task,
                "score": event.score,
                "breakdown": [c.model_dump() for c in event.breakdown],
                "expires_at": event.expires_at,
                "requester_id": event.requester_id,
                "request_id": event.request_id,
                "proposal_id": event.proposal_id,
            },
            mentions=(event.requester_id,),
            quoted={event.requester_id: (event.task,)},
        )
    ]


def _moved(event: MatchProposed) -> list[Intent]:
    """The requester of a waiting request hears that it moved: someone was asked."""
    if event.waited_since is None:
        return []
    return [
        Intent(
            event.requester_id,
            "help-request-moved",
            {
                "skill": skill_label(event.skill_id),
                "helper_id": event.helper_id,
                "waited_since": event.waited_since,
                "expires_at": event.expires_at,
            },
            mentions=(event.helper_id,),
        )
    ]


def intents_for(event: Event) -> list[Intent]:
    """The notifications an event causes; empty for events nobody needs to hear about."""
    links: dict[str, str | int] = {}
    for name in LINK_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, str | int):
            links[name] = value
    return [replace(intent, links=links) for intent in _intents_for(event)]


def _intents_for(event: Event) -> list[Intent]:
    match event:
        case MatchProposed():
            return [*_proposed(event), *_moved(event)]
        case MatchAccepted():
            return [*_accepted(event), *_reminders(event), *_invitations(event)]
        case SessionRescheduled():
            return [*_reminders(event), *_invitations(event)]
        case SessionCancelled():
            return _invitations(event)
        case MatchDeclined() | MatchExpired():
            kind: Kind = "match-declined" if isinstance(event, MatchDeclined) else "match-expired"
            reason = event.reason if isinstance(event, MatchDeclined) else None
            return [
                Intent(
                    event.requester_id,
                    kind,
                    {
                        "skill": skill_label(event.skill_id),
                        "helper_id": event.helper_id,
                        "reason": reason,
                        "will_retry": event.will_retry,
                    },
                    mentions=(event.helper_id,),
                    quoted={event.helper_id: (reason,)} if reason else {},
                )
            ]
        case HelpRequestWaiting():
            return [
                Intent(
                    event.requester_id,
                    "help-request-waiting",
                    {
                        "skill": skill_label(event.skill_id),
                        "reason": event.reason,
                        "why": _WAITING_BECAUSE[event.reason],
                        "detail": event.detail,
                        "until": event.until,
                    },
                )
            ]
        case HelpRequestUnmatched():
            return [
                Intent(
                    event.requester_id,
                    "help-request-unmatched",
                    {
                        "skill": skill_label(event.skill_id),
                        "reason": event.reason,
                        "detail": event.detail,
                        "candidates_tried": event.candidates_tried,
                        "suggestion": suggestion_for(event.reason),
                    },
                )
            ]
        case HelpRequestCancelled():
            return [
                Intent(
                    event.requester_id,
                    "help-request-cancelled",
                    {"skill": skill_label(event.skill_id), "reason": event.reason},
                )
            ]
        case SessionCompleted():
            common = {
                "skill": skill_label(event.skill_id),
                "session_id": event.session_id,
                "duration_minutes": event.duration_minutes,
            }
            return [
                Intent(
                    event.learner_id,
                    "session-completed",
                    {**common, "role": "learner", "other_id": event.teacher_id},
                    mentions=(event.teacher_id,),
                ),
                Intent(
                    event.teacher_id,
                    "session-completed",
                    {**common, "role": "teacher", "other_id": event.learner_id},
                    mentions=(event.learner_id,),
                ),
            ]
        case FeedbackGiven():
            return [
                Intent(
                    event.to_id,
                    "feedback-received",
                    {
                        "from_id": event.from_id,
                        "rating": event.rating,
                        "comment": event.comment,
                        "role": event.role_of_rated,
                        "session_id": event.session_id,
                    },
                    mentions=(event.from_id,),
                    quoted={event.from_id: (event.comment,)} if event.comment else {},
                )
            ]
        case SkillAcquired():
            return [
                Intent(
                    event.person_id,
                    "teach-back-invitation",
                    {
                        "skill": event.skill_name,
                        "skill_id": event.skill_id,
                        "level": event.level,
                        "teacher_id": event.teacher_id,
                    },
                    mentions=(event.teacher_id,),
                )
            ]
    return []
