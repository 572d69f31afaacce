"""The help request as the API shows it: no store bookkeeping, and each reader sees their part.

The aggregate carries fields that are the store's business (`sequence`), and every
proposal's score breakdown; a proposed helper may read the request they were asked
about but not who else was asked, nor a session they have no part in, and only the
session's two participants read its feedback comments (an admin sees the ratings).
`version` is shown: it is what a caller passes back as `expected_version`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from peerloop_contracts.common import SessionFormat, Urgency
from peerloop_contracts.matching import ScoreComponent, UnmatchedReason, WaitingReason
from pydantic import BaseModel, Field

from peerloop_matching.application.slots import Suggestion
from peerloop_matching.domain.help_request import (
    HelpRequest,
    Proposal,
    ProposalStatus,
    Role,
    Session,
    State,
)


class ProposalView(BaseModel):
    proposal_id: str
    attempt: int
    helper_id: str
    skill_id: str
    score: float
    breakdown: list[ScoreComponent]
    status: ProposalStatus
    proposed_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None
    waited_since: datetime | None = Field(
        default=None, description="Set when this proposal ended a wait: since when it waited."
    )


class FeedbackView(BaseModel):
    rating: int
    comment: str | None = Field(
        default=None, description="Only the session's two participants read the comments."
    )
    given_at: datetime


class SessionView(BaseModel):
    session_id: str
    learner_id: str
    teacher_id: str
    skill_id: str
    scheduled_at: datetime | None = None
    confirmed_minutes: dict[Role, int] = Field(default_factory=dict)
    feedback: dict[Role, FeedbackView] = Field(default_factory=dict)
    completed_at: datetime | None = None


class HelpRequestView(BaseModel):
    request_id: str
    version: int = Field(description="Pass as `expected_version` to act only on what you read.")
    state: State
    requester_id: str
    skill_id: str
    desired_level: int
    task: str
    needed_by: datetime | None = None
    urgency: Urgency
    format: SessionFormat
    max_minutes: int
    created_at: datetime
    proposals: list[ProposalView] = Field(
        description="All of them for the requester; only their own for a proposed helper."
    )
    session: SessionView | None = None
    unmatched_reason: UnmatchedReason | None = None
    unmatched_detail: str | None = None
    programme_id: str | None = Field(
        default=None, description="The programme that proposed this pair, if any."
    )
    waiting_reason: WaitingReason | None = Field(
        default=None, description="While `waiting`: why nobody can take it now."
    )
    waiting_detail: str | None = None
    waiting_since: datetime | None = None
    wait_until: datetime | None = Field(
        default=None, description="While `waiting`: when it ends unmatched if nobody came."
    )
    inferred_skills: list[str] = Field(
        default_factory=list,
        description="When the ask named no skill: the skills inferred from the task, best "
        "first (the request is for the first). Only in the answer to the ask.",
    )


class WhyThisMatch(BaseModel):
    proposal_id: str
    helper_id: str
    status: str
    score: float
    breakdown: list[ScoreComponent]


def _proposal(p: Proposal) -> ProposalView:
    return ProposalView.model_validate(p.model_dump())


def _session(s: Session, reader: str | None) -> SessionView:
    view = SessionView.model_validate(s.model_dump())
    if reader not in (s.learner_id, s.teacher_id):
        # An admin sees that a session was rated, not what its participants wrote.
        for feedback in view.feedback.values():
            feedback.comment = None
    return view


def _visible(request: HelpRequest, reader: str | None) -> list[Proposal]:
    """`reader` None is an admin: everything."""
    return list(request.proposals) if reader is None else request.proposals_visible_to(reader)


def request_view(request: HelpRequest, reader: str | None) -> HelpRequestView:
    session = request.session
    shows_session = session is not None and (
        reader is None or reader in (session.learner_id, session.teacher_id)
    )
    return HelpRequestView(
        request_id=request.request_id,
        version=request.version,
        state=request.state,
        requester_id=request.requester_id,
        skill_id=request.skill_id,
        desired_level=request.desired_level,
        task=request.task,
        needed_by=request.needed_by,
        urgency=request.urgency,
        format=request.format,
        max_minutes=request.max_minutes,
        created_at=request.created_at,
        proposals=[_proposal(p) for p in _visible(request, reader)],
        session=_session(session, reader) if shows_session and session is not None else None,
        unmatched_reason=request.unmatched_reason,
        unmatched_detail=request.unmatched_detail,
        programme_id=request.programme_id,
        waiting_reason=request.waiting_reason,
        waiting_detail=request.waiting_detail,
        waiting_since=request.waiting_since,
        wait_until=request.wait_until,
    )


def why_view(request: HelpRequest, reader: str | None) -> list[WhyThisMatch]:
    return [
        WhyThisMatch(
            proposal_id=p.proposal_id,
            helper_id=p.helper_id,
            status=p.status,
            score=p.score,
            breakdown=p.breakdown,
        )
        for p in _visible(request, reader)
    ]


class SlotView(BaseModel):
    start: datetime
    end: datetime
    local_start: dict[str, datetime] = Field(
        description="The start on each participant's wall clock, by person id."
    )


class SlotsView(BaseModel):
    proposal_id: str
    minutes: int = Field(description="The request's `max_minutes`: the length of each slot.")
    time_zones: dict[str, str]
    slots: list[SlotView] = Field(
        description="Earliest first; empty when the two people's working hours never overlap."
    )


def slots_view(proposal_id: str, minutes: int, suggestion: Suggestion) -> SlotsView:
    zones = {p: ZoneInfo(z) for p, z in suggestion.time_zones.items()}
    return SlotsView(
        proposal_id=proposal_id,
        minutes=minutes,
        time_zones=suggestion.time_zones,
        slots=[
            SlotView(
                start=slot.start,
                end=slot.end,
                local_start={p: slot.start.astimezone(z) for p, z in zones.items()},
            )
            for slot in suggestion.slots
        ],
    )
