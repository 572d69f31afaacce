"""Endorsements and the evidence of a person's skill: parse, check access, one use case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from peerloop_runtime.auth import CurrentPrincipal
from pydantic import BaseModel, Field

from peerloop_profiles.application.evidence import Evidence
from peerloop_profiles.bootstrap import ProfilesService
from peerloop_profiles.domain.model import SkillEvidence
from peerloop_profiles.domain.rules import skill_name
from peerloop_profiles.entrypoints.access import endorser, may_read_evidence
from peerloop_profiles.entrypoints.api import PersonPath, ProfileWrite, SkillPath, TraceParent

router = APIRouter(prefix="/people", tags=["evidence"])


def _evidence(request: Request) -> Evidence:
    built: ProfilesService = request.app.state.service
    return built.evidence


EvidenceService = Annotated[Evidence, Depends(_evidence)]


class EvidenceView(BaseModel):
    person_id: str
    skill_id: str
    skill_name: str
    score: float = Field(description="the evidence now: the published score decayed to now")
    published_score: float = Field(description="the score as of `as_of`")
    as_of: datetime | None
    half_life_days: float
    evidence_level: int = Field(description="0 (none) … 5, comparable with a declared level")
    sessions_taught: int = 0
    endorsements: int = 0
    ratings: int = 0
    mean_rating: float | None = None
    learned: bool = False


def _view(
    svc: Evidence, person_id: str, skill_id: str, found: SkillEvidence | None
) -> EvidenceView:
    common = {
        "person_id": person_id,
        "skill_id": skill_id,
        "skill_name": skill_name(skill_id),
        "half_life_days": svc.half_life_days,
    }
    if found is None:
        return EvidenceView(score=0, published_score=0, as_of=None, evidence_level=0, **common)
    return EvidenceView(
        score=round(svc.score_now(found), 6),
        published_score=found.score,
        **common,
        **found.model_dump(exclude={"skill_id", "score"}),
    )


@router.post(
    "/{person_id}/skills/{skill}/endorsements",
    summary="Endorse a skill the person taught you",
    responses={
        403: {"description": "You had no completed session with the person on this skill"},
        404: {"description": "No such person"},
        409: {"description": "Your own skill, or the person was erased"},
    },
    dependencies=[ProfileWrite],
)
async def endorse(
    person_id: PersonPath,
    skill: SkillPath,
    caller: CurrentPrincipal,
    svc: EvidenceService,
    traceparent: TraceParent = None,
) -> EvidenceView:
    """The signed-in learner vouches for a skill this person taught them in a completed
    session; it raises the person's evidence (`skill-evidence-changed`). Once per learner
    and skill: a repeat changes nothing and answers the same."""
    learner = endorser(caller)
    found = await svc.endorse(learner, person_id, skill, traceparent=traceparent)
    return _view(svc, person_id, skill, found)


@router.get(
    "/{person_id}/skills/{skill}/evidence",
    summary="A person's evidence of a skill (the person and admins)",
    responses={404: {"description": "No such person"}},
)
async def get_evidence(
    person_id: PersonPath, skill: SkillPath, caller: CurrentPrincipal, svc: EvidenceService
) -> EvidenceView:
    """Sessions taught, endorsements, ratings and the score, decayed to now."""
    may_read_evidence(caller, person_id)
    return _view(svc, person_id, skill, await svc.of(person_id, skill))
