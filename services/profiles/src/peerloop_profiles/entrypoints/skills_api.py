"""Type-ahead over the skills taxonomy: `GET /skills?q=kube` -> ranked skills with aliases.

The catalogue (curated skills over ESCO) is held in memory with a prefix and
letter-triple index (`SkillCatalogue.search`), so an answer takes well under a millisecond.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from peerloop_contracts.skills import Suggestion, default_catalogue, esco_version
from peerloop_runtime.auth import CurrentPrincipal
from pydantic import BaseModel, Field

router = APIRouter(prefix="/skills", tags=["skills"])

SHOWN_ALIASES = 8


class SkillMatch(BaseModel):
    id: str
    name: str
    matched: str = Field(description="the name or alias the query matched")
    aliases: list[str] = Field(description=f"up to {SHOWN_ALIASES} aliases")
    source: str = Field(description="peerloop (curated), esco or organisation")
    broader: list[str]
    score: float


class SkillMatches(BaseModel):
    query: str
    taxonomy_version: str
    items: list[SkillMatch]


def skill_match(found: Suggestion) -> SkillMatch:
    skill = found.skill
    return SkillMatch(
        id=skill.id,
        name=skill.name,
        matched=found.matched,
        aliases=list(skill.aliases[:SHOWN_ALIASES]),
        source=skill.source,
        broader=list(skill.broader),
        score=found.score,
    )


@router.get("", summary="Skills whose name or alias matches what is typed, best first")
async def search_skills(
    _caller: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=100, description="what was typed")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SkillMatches:
    found = default_catalogue().search(q, limit=limit)
    return SkillMatches(
        query=q, taxonomy_version=esco_version(), items=[skill_match(s) for s in found]
    )
