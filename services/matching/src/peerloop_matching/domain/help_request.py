"""The help-request aggregate: request, proposals, session and feedback.

One document and one event sequence per request, so every event about it is
ordered by its key and each command is one single-document update. Methods
check the transition, change the state and return the events it causes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Literal

from peerloop_contracts.base import Event
from peerloop_contracts.common import ERASED_PERSON, SessionFormat, Urgency
from peerloop_contracts.matching import (
    FeedbackGiven,
    HelpRequestCancelled,
    HelpRequested,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    ScoreComponent,
    SessionCancelled,
    SessionCompleted,
    SessionNotHappened,
    SessionRescheduled,
    UnmatchedReason,
    WaitingReason,
)
from pydantic import BaseModel, ConfigDict

from peerloop_matching.domain.errors import InvalidTransitionError, NotAllowedError
from peerloop_matching.domain.scoring import Scored
from peerloop_matching.domain.waiting import unmatched_reason

State = Literal[
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
Role = Literal["learner", "teacher"]

OPEN_STATES: frozenset[str] = frozenset({"requested", "proposed", "waiting"})
MATCHABLE_STATES: frozenset[str] = frozenset({"requested", "waiting"})
"""States in which a helper may be proposed: just asked (or declined), or waiting for one."""

ERASED = ERASED_PERSON
"""Stands in for an erased person wherever another person's record must keep its shape."""

ASKED_FIELDS = (
    "requester_id",
    "skill_id",
    "desired_level",
    "task",
    "needed_by",
    "urgency",
    "format",
    "max_minutes",
)
"""What the requester asked; two asks with one idempotency key must agree on these."""


def _comparable(value: object) -> object:
    """Times as the store keeps them (milliseconds), so a stored ask equals a retried one."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def idempotent_request_id(requester_id: str, idempotency_key: str) -> str:
    """The id a requester's retried ask lands on: the same key gives the same request.

    Keys are the requester's own, so two people using one key never collide.
    """
    digest = hashlib.sha256(f"{requester_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"r-{digest[:16]}"


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class Proposal(_State):
    proposal_id: str
    attempt: int
    helper_id: str
    skill_id: str
    score: float
    breakdown: list[ScoreComponent]
    status: ProposalStatus = "pending"
    proposed_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None
    waited_since: datetime | None = None
    """Set when this proposal ended a wait: since when the request waited."""


class Feedback(_State):
    rating: int
    comment: str | None = None
    given_at: datetime


class Session(_State):
    session_id: str
    learner_id: str
    teacher_id: str
    skill_id: str
    scheduled_at: datetime | None = None
    revision: int = 0
    """Counts the changes of the session's time (0 when accepted); calendars order by it."""
    confirmed_minutes: dict[Role, int] = {}
    feedback: dict[Role, Feedback] = {}
    completed_at: datetime | None = None

    def role_of(self, person_id: str) -> Role:
        if person_id == self.learner_id:
            return "learner"
        if person_id == self.teacher_id:
            return "teacher"
        raise NotAllowedError(f"{person_id} is not a participant of session {self.session_id}")


class HelpRequest(_State):
    request_id: str
    sequence: int = 0
    """Of the last event published about this request."""
    version: int = 0
    """Of the stored document: bumped by every save, with or without events."""
    state: State = "requested"
    requester_id: str
    skill_id: str
    desired_level: int
    task: str
    needed_by: datetime | None = None
    urgency: Urgency = "normal"
    format: SessionFormat = "call"
    max_minutes: int = 60
    created_at: datetime
    proposals: list[Proposal] = []
    session: Session | None = None
    unmatched_reason: UnmatchedReason | None = None
    unmatched_detail: str | None = None
    programme_id: str | None = None
    """Set when a programme proposed this pair: after a decline or expiry the programme
    finds the next mentor (within its capacities), not the one-off engine."""
    waiting_reason: WaitingReason | None = None
    waiting_detail: str | None = None
    waiting_since: datetime | None = None
    """Since when the request waits for a helper (None when it does not wait)."""
    wait_until: datetime | None = None
    """When a waiting request ends unmatched: its `needed_by` or the longest wait."""
    recheck_at: datetime | None = None
    traceparent: str | None = None
    """The trace of the ask: what a sweep or a wake-up does later continues it."""
    """When a waiting request is next tried again without an event (capacity comes back
    with a new week or an expired reservation, people come back from away on a date)."""

    # -- queries ---------------------------------------------------------------------------

    def is_visible_to(self, person_id: str) -> bool:
        """The requester and everyone proposed as a helper may read the request."""
        return person_id == self.requester_id or any(
            p.helper_id == person_id for p in self.proposals
        )

    def proposals_visible_to(self, person_id: str) -> list[Proposal]:
        """A helper sees only their own proposals: not who else was asked, or why."""
        if person_id == self.requester_id:
            return list(self.proposals)
        return [p for p in self.proposals if p.helper_id == person_id]

    def asks_the_same_as(self, other: HelpRequest) -> bool:
        return all(
            _comparable(getattr(self, f)) == _comparable(getattr(other, f)) for f in ASKED_FIELDS
        )

    @property
    def tried_helpers(self) -> frozenset[str]:
        return frozenset(p.helper_id for p in self.proposals)

    @property
    def pending(self) -> Proposal | None:
        last = self.proposals[-1] if self.proposals else None
        return last if last is not None and last.status == "pending" else None

    def pending_for(self, proposal_id: str, helper_id: str) -> Proposal:
        """The pending proposal a helper may answer; refuses anyone else or a closed one."""
        match = next((p for p in self.proposals if p.proposal_id == proposal_id), None)
        if match is None:
            raise InvalidTransitionError(f"no proposal {proposal_id} on request {self.request_id}")
        if match.helper_id != helper_id:
            raise NotAllowedError("only the proposed helper can answer this proposal")
        if match.status != "pending" or self.state != "proposed":
            raise InvalidTransitionError(f"proposal {proposal_id} is already {match.status}")
        return match

    def next_proposal_id(self) -> str:
        return f"{self.request_id}.p{len(self.proposals) + 1}"

    # -- transitions -----------------------------------------------------------------------

    @classmethod
    def create(cls, **fields: object) -> tuple[HelpRequest, list[Event]]:
        request = cls.model_validate(fields)
        return request, [
            request._emit(
                HelpRequested,
                skill_id=request.skill_id,
                desired_level=request.desired_level,
                task=request.task,
                needed_by=request.needed_by,
                urgency=request.urgency,
                format=request.format,
                max_minutes=request.max_minutes,
            )
        ]

    def propose(self, match: Scored, *, now: datetime, ttl: timedelta) -> list[Event]:
        if self.state not in MATCHABLE_STATES:
            raise InvalidTransitionError(
                f"cannot propose a helper for a request that is {self.state}"
            )
        if match.candidate.person_id in self.tried_helpers | {self.requester_id}:
            raise InvalidTransitionError(f"{match.candidate.person_id} was already asked")
        breakdown = [
            ScoreComponent(
                name=c.name,
                weight=c.weight,
                value=round(c.value, 4),
                contribution=round(c.contribution, 4),
                explanation=c.explanation,
            )
            for c in match.components
        ]
        waited_since = self.waiting_since
        proposal = Proposal(
            waited_since=waited_since,
            proposal_id=self.next_proposal_id(),
            attempt=len(self.proposals) + 1,
            helper_id=match.candidate.person_id,
            skill_id=match.skill_id,
            score=match.score,
            breakdown=breakdown,
            proposed_at=now,
            expires_at=now + ttl,
        )
        self.proposals.append(proposal)
        self._stop_waiting()
        self.state = "proposed"
        return [
            self._emit(
                MatchProposed,
                proposal_id=proposal.proposal_id,
                helper_id=proposal.helper_id,
                skill_id=self.skill_id,
                task=self.task,
                score=proposal.score,
                breakdown=breakdown,
                attempt=proposal.attempt,
                expires_at=proposal.expires_at,
                waited_since=waited_since,
            )
        ]

    def give_up(self, reason: UnmatchedReason, detail: str) -> list[Event]:
        if self.state not in MATCHABLE_STATES:
            raise InvalidTransitionError(f"cannot give up on a request that is {self.state}")
        waited_since = self.waiting_since
        self._stop_waiting()
        self.state = "unmatched"
        self.unmatched_reason = reason
        self.unmatched_detail = detail
        return [
            self._emit(
                HelpRequestUnmatched,
                skill_id=self.skill_id,
                reason=reason,
                detail=detail,
                candidates_tried=len(self.proposals),
                waited_since=waited_since,
            )
        ]

    def wait(
        self,
        reason: WaitingReason,
        detail: str,
        *,
        now: datetime,
        until: datetime,
        recheck_at: datetime,
    ) -> list[Event]:
        """Nobody can take it now: wait for a helper (or, past `until`, end unmatched).

        A request already waiting only notes the newer reason: the requester was told.
        """
        if self.state not in MATCHABLE_STATES:
            raise InvalidTransitionError(f"cannot wait with a request that is {self.state}")
        if until <= now:
            return self.give_up(unmatched_reason(reason), detail)
        self.waiting_reason = reason
        self.waiting_detail = detail
        self.wait_until = until
        self.recheck_at = recheck_at
        if self.state == "waiting":
            return []
        self.state = "waiting"
        self.waiting_since = now
        return [
            self._emit(
                HelpRequestWaiting,
                skill_id=self.skill_id,
                reason=reason,
                detail=detail,
                candidates_tried=len(self.proposals),
                waiting_since=now,
                until=until,
            )
        ]

    def end_wait(self, *, now: datetime) -> list[Event]:
        """The wait is over (`needed_by` or the longest wait passed): end unmatched."""
        if self.state != "waiting" or self.waiting_reason is None:
            raise InvalidTransitionError(f"request {self.request_id} is not waiting")
        if self.wait_until is None or self.wait_until > now:
            raise InvalidTransitionError(f"request {self.request_id} may still wait")
        reason = self.waiting_reason
        detail = f"waited until {self.wait_until:%Y-%m-%d %H:%M} UTC: {self.waiting_detail or ''}"
        return self.give_up(unmatched_reason(reason), detail.rstrip(": ")[:500])

    def decline(
        self,
        proposal_id: str,
        helper_id: str,
        *,
        reason: str | None,
        now: datetime,
        will_retry: bool,
    ) -> list[Event]:
        proposal = self.pending_for(proposal_id, helper_id)
        self._close(proposal, "declined", now, reason)
        return [
            self._emit(
                MatchDeclined,
                proposal_id=proposal_id,
                helper_id=helper_id,
                skill_id=self.skill_id,
                reason=reason,
                will_retry=will_retry,
            )
        ]

    def expire(self, *, now: datetime, will_retry: bool) -> list[Event]:
        proposal = self.pending
        if proposal is None or self.state != "proposed":
            raise InvalidTransitionError(f"request {self.request_id} has no pending proposal")
        if proposal.expires_at > now:
            raise InvalidTransitionError(f"proposal {proposal.proposal_id} has not expired yet")
        self._close(proposal, "expired", now, None)
        return [
            self._emit(
                MatchExpired,
                proposal_id=proposal.proposal_id,
                helper_id=proposal.helper_id,
                skill_id=self.skill_id,
                will_retry=will_retry,
            )
        ]

    def accept(
        self, proposal_id: str, helper_id: str, *, scheduled_at: datetime | None, now: datetime
    ) -> list[Event]:
        proposal = self.pending_for(proposal_id, helper_id)
        proposal.status = "accepted"
        proposal.decided_at = now
        self.state = "accepted"
        self.session = Session(
            session_id=f"{self.request_id}.s",
            learner_id=self.requester_id,
            teacher_id=helper_id,
            skill_id=proposal.skill_id,
            scheduled_at=scheduled_at,
        )
        return [
            self._emit(
                MatchAccepted,
                proposal_id=proposal_id,
                helper_id=helper_id,
                session_id=self.session.session_id,
                skill_id=self.skill_id,
                scheduled_at=scheduled_at,
                minutes=self.max_minutes,
            )
        ]

    def cancel(self, actor: str, *, reason: str | None, now: datetime) -> list[Event]:
        if actor != self.requester_id:
            raise NotAllowedError("only the requester can cancel a help request")
        if self.state not in OPEN_STATES:
            raise InvalidTransitionError(f"cannot cancel a request that is {self.state}")
        if (proposal := self.pending) is not None:
            self._close(proposal, "cancelled", now, reason)
        self._stop_waiting()
        self.state = "cancelled"
        return [self._emit(HelpRequestCancelled, skill_id=self.skill_id, reason=reason)]

    def confirm(self, actor: str, *, minutes: int | None, now: datetime) -> list[Event]:
        session = self._session_for(actor)
        role = session.role_of(actor)
        if role in session.confirmed_minutes:
            raise InvalidTransitionError(f"the {role} already confirmed this session")
        session.confirmed_minutes[role] = minutes or self.max_minutes
        if len(session.confirmed_minutes) < 2:
            return []
        self.state = "completed"
        session.completed_at = now
        # The teacher's figure wins: they usually keep the time; fall back to the learner's.
        duration = session.confirmed_minutes.get("teacher") or session.confirmed_minutes["learner"]
        return [
            self._emit(
                SessionCompleted,
                session_id=session.session_id,
                learner_id=session.learner_id,
                teacher_id=session.teacher_id,
                skill_id=self.skill_id,
                level=self.desired_level,
                duration_minutes=duration,
                completed_at=now,
            )
        ]

    def reschedule(self, actor: str, *, scheduled_at: datetime, now: datetime) -> list[Event]:
        """A participant moves the session to another time, which must lie ahead."""
        session = self._session_for(actor)
        if scheduled_at <= now:
            raise InvalidTransitionError("a session can only be moved to a time still ahead")
        session.scheduled_at = scheduled_at
        session.revision += 1
        return [
            self._emit(
                SessionRescheduled,
                session_id=session.session_id,
                learner_id=session.learner_id,
                teacher_id=session.teacher_id,
                skill_id=self.skill_id,
                scheduled_at=scheduled_at,
                minutes=self.max_minutes,
                revision=session.revision,
                rescheduled_by=actor,
            )
        ]

    def cancel_session(self, actor: str, *, reason: str | None) -> list[Event]:
        """A participant calls the session off: the request ends as cancelled."""
        session = self._session_for(actor)
        session.revision += 1
        self.state = "cancelled"
        return [
            self._emit(
                SessionCancelled,
                session_id=session.session_id,
                learner_id=session.learner_id,
                teacher_id=session.teacher_id,
                skill_id=self.skill_id,
                revision=session.revision,
                cancelled_by=actor,
                reason=reason,
            )
        ]

    def report_not_happened(self, actor: str) -> list[Event]:
        session = self._session_for(actor)
        session.role_of(actor)
        self.state = "not_happened"
        return [
            self._emit(
                SessionNotHappened,
                session_id=session.session_id,
                learner_id=session.learner_id,
                teacher_id=session.teacher_id,
                reported_by=actor,
            )
        ]

    def give_feedback(
        self, actor: str, *, rating: int, comment: str | None, now: datetime
    ) -> list[Event]:
        session = self.session
        if session is None:
            raise InvalidTransitionError("there is no session to rate")
        role = session.role_of(actor)
        if self.state != "completed":
            raise InvalidTransitionError(
                f"feedback needs a completed session, this one is {self.state}"
            )
        if role in session.feedback:
            raise InvalidTransitionError(f"the {role} already gave feedback")
        session.feedback[role] = Feedback(rating=rating, comment=comment, given_at=now)
        rated_role: Role = "teacher" if role == "learner" else "learner"
        return [
            self._emit(
                FeedbackGiven,
                session_id=session.session_id,
                from_id=actor,
                to_id=session.teacher_id if rated_role == "teacher" else session.learner_id,
                role_of_rated=rated_role,
                rating=rating,
                comment=comment,
            )
        ]

    def holds_capacity_of(self) -> list[Proposal]:
        """Proposals whose helper's capacity this request still holds (pending or accepted)."""
        return [p for p in self.proposals if p.status in ("pending", "accepted")]

    def forget(self, person_id: str) -> None:
        """Erasure of a helper: their name and their words leave this (someone else's) request.

        Their proposals keep their place (the requester's history stays whole) but name
        `ERASED` and lose the reason they gave and the explanations of their score; as
        the session's teacher they are `ERASED` too, and both comments go: the one they
        wrote, and the learner's about them (it speaks of them, often by name); the
        ratings stay. No event: there is nothing to announce, and an event would carry
        what is being forgotten. The requester's own requests are deleted, not forgotten
        (see the use case).
        """
        if person_id == self.requester_id:
            raise InvalidTransitionError("a requester's own help requests are deleted, not kept")
        for proposal in self.proposals:
            if proposal.helper_id == person_id:
                proposal.helper_id = ERASED
                # The scores stay; the words explaining them describe the person (their team).
                proposal.breakdown = [
                    c.model_copy(update={"explanation": ""}) for c in proposal.breakdown
                ]
                if proposal.status == "declined":
                    proposal.reason = None
        session = self.session
        if session is not None and session.teacher_id == person_id:
            session.teacher_id = ERASED
            for feedback in session.feedback.values():
                feedback.comment = None

    # -- helpers ---------------------------------------------------------------------------

    def _session_for(self, actor: str) -> Session:
        if self.session is None:
            raise InvalidTransitionError(f"request {self.request_id} has no session ({self.state})")
        self.session.role_of(actor)
        if self.state != "accepted":
            raise InvalidTransitionError(f"the session is already {self.state.replace('_', ' ')}")
        return self.session

    def _stop_waiting(self) -> None:
        self.waiting_reason = None
        self.waiting_detail = None
        self.waiting_since = None
        self.wait_until = None
        self.recheck_at = None

    def _close(
        self, proposal: Proposal, status: ProposalStatus, now: datetime, reason: str | None
    ) -> None:
        proposal.status = status
        proposal.decided_at = now
        proposal.reason = reason
        self.state = "requested" if status in ("declined", "expired") else self.state

    def _emit(self, event_cls: type[Event], **fields: object) -> Event:
        self.sequence += 1
        return event_cls.model_validate(
            {
                "request_id": self.request_id,
                "requester_id": self.requester_id,
                "sequence": self.sequence,
                **fields,
            }
        )
