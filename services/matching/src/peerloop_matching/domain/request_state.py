"""A help request's published state: what the compacted `help-request-state` topic says.

Everything another system needs to know where a request stands (status, who was
proposed and what they answered, the session and its ratings), without the words
people wrote about each other: no decline reasons, score explanations or feedback
comments. Built from the request as it is saved, in the same write as its events.
"""

from __future__ import annotations

from datetime import datetime

from peerloop_contracts.states import HelpRequestState, ProposalState, SessionState

from peerloop_matching.domain.help_request import Feedback, HelpRequest


def help_request_state(request: HelpRequest, at: datetime) -> HelpRequestState:
    """The state after the request's last change, reached at `at`."""
    session = request.session
    return HelpRequestState(
        request_id=request.request_id,
        requester_id=request.requester_id,
        status=request.state,
        skill_id=request.skill_id,
        desired_level=request.desired_level,
        task=request.task,
        needed_by=request.needed_by,
        urgency=request.urgency,
        format=request.format,
        max_minutes=request.max_minutes,
        created_at=request.created_at,
        updated_at=at,
        proposals=[
            ProposalState(
                proposal_id=p.proposal_id,
                attempt=p.attempt,
                helper_id=p.helper_id,
                skill_id=p.skill_id,
                score=p.score,
                status=p.status,
                proposed_at=p.proposed_at,
                expires_at=p.expires_at,
                decided_at=p.decided_at,
            )
            for p in request.proposals
        ],
        session=None
        if session is None
        else SessionState(
            session_id=session.session_id,
            learner_id=session.learner_id,
            teacher_id=session.teacher_id,
            skill_id=session.skill_id,
            scheduled_at=session.scheduled_at,
            completed_at=session.completed_at,
            duration_minutes=(
                session.confirmed_minutes.get("teacher") or session.confirmed_minutes.get("learner")
            )
            if session.completed_at is not None
            else None,
            rating_of_teacher=_rating(session.feedback.get("learner")),
            rating_of_learner=_rating(session.feedback.get("teacher")),
        ),
        unmatched_reason=request.unmatched_reason,
        unmatched_detail=request.unmatched_detail,
        waiting_reason=request.waiting_reason,
        waiting_since=request.waiting_since,
        wait_until=request.wait_until,
        programme_id=request.programme_id,
        sequence=request.sequence,
    )


def _rating(feedback: Feedback | None) -> int | None:
    return feedback.rating if feedback is not None else None
