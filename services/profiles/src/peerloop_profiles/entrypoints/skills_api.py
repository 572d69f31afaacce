"""Type-ahead over the skills taxonomy: `GET /skills?q=kube` -> ranked skills with aliases;
and the organisation's own layer: `PUT`/`DELETE /skills/{skill_id}` (admins), `GET` (all).

The catalogue (curated skills over ESCO, plus the organisation's) is held in memory with a
prefix and letter-triple index (`SkillCatalogue.search`), so an answer takes well under a
millisecond; an organisation definition is applied to it at run time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from peerloop_contracts.common import Description, SkillId, SkillName
from peerloop_contracts.skills import Skill, SkillCatalogue, Suggestion, esco_version
from peerloop_contracts.states import MAX_SKILL_ALIASES, MAX_SKILL_RELATIONS
from peerloop_runtime.auth import CurrentPrincipal
from pydantic import BaseModel, ConfigDict, Field

from peerloop_profiles.application.errors import SkillNotDefined
from peerloop_profiles.application.organisation_skills import OrganisationSkills
from peerloop_profiles.bootstrap import ProfilesService
from peerloop_profiles.domain.organisation_skills import SkillDefinition
from peerloop_profiles.entrypoints.access import may_define_skills
from peerloop_profiles.entrypoints.api import IfMatch, TraceParent, _expected_version

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


def organisation_skills(request: Request) -> OrganisationSkills:
    built: ProfilesService = request.app.state.service
    return built.skills


def catalogue(request: Request) -> SkillCatalogue:
    return organisation_skills(request).layer.catalogue


Skills = Annotated[OrganisationSkills, Depends(organisation_skills)]
Catalogue = Annotated[SkillCatalogue, Depends(catalogue)]
SkillIdPath = Annotated[str, Path(min_length=1, max_length=64, description="e.g. acme-ledger")]
# A wider cap than the contract's: the domain answers "at most 20 aliases" itself.
_LIST_CAP = 100


class DefineSkill(BaseModel):
    """The organisation's whole definition of the skill: what is left out is removed."""

    model_config = ConfigDict(extra="forbid")
    name: SkillName | None = Field(
        default=None,
        description="needed for a new skill; a curated or ESCO skill keeps its own name",
    )
    aliases: list[SkillName] = Field(
        default_factory=list,
        max_length=_LIST_CAP,
        description=f"at most {MAX_SKILL_ALIASES}; none may name another skill",
    )
    description: Description = ""
    related: list[SkillId] = Field(
        default_factory=list, max_length=_LIST_CAP, description=f"at most {MAX_SKILL_RELATIONS}"
    )
    broader: list[SkillId] = Field(
        default_factory=list, max_length=_LIST_CAP, description=f"at most {MAX_SKILL_RELATIONS}"
    )
    version: int | None = Field(
        default=None, ge=0, description="the version last read (0: none yet); 409 if it changed"
    )


class OrganisationPart(BaseModel):
    version: int
    aliases: list[str] = Field(description="the aliases the organisation gave the skill")
    extends: bool = Field(description="a curated or ESCO skill the organisation added aliases to")


class SkillView(BaseModel):
    id: str
    name: str
    aliases: list[str]
    description: str
    source: str = Field(description="peerloop (curated), esco or organisation")
    related: list[str]
    broader: list[str]
    organisation: OrganisationPart | None = Field(
        description="the organisation's definition, if it has one"
    )


def skill_view(skill: Skill, definition: SkillDefinition | None) -> SkillView:
    return SkillView(
        id=skill.id,
        name=skill.name,
        aliases=list(skill.aliases),
        description=skill.description,
        source=skill.source,
        related=list(skill.related),
        broader=list(skill.broader),
        organisation=None
        if definition is None
        else OrganisationPart(
            version=definition.version,
            aliases=list(definition.aliases),
            extends=definition.extends,
        ),
    )


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such skill"}}


@router.get("", summary="Skills whose name or alias matches what is typed, best first")
async def search_skills(
    _caller: CurrentPrincipal,
    known: Catalogue,
    q: Annotated[str, Query(min_length=1, max_length=100, description="what was typed")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SkillMatches:
    found = known.search(q, limit=limit)
    return SkillMatches(
        query=q, taxonomy_version=esco_version(), items=[skill_match(s) for s in found]
    )


@router.get("/{skill_id}", summary="One skill of the catalogue", responses=NOT_FOUND)
async def get_skill(
    skill_id: SkillIdPath, _caller: CurrentPrincipal, skills: Skills, response: Response
) -> SkillView:
    definition = await skills.get(skill_id)
    skill = skills.layer.catalogue.get(skill_id)
    if skill is None:
        raise SkillNotDefined(skill_id)
    if definition is not None:
        response.headers["ETag"] = f'"{definition.version}"'
    return skill_view(skill, definition)


@router.put(
    "/{skill_id}",
    summary="Define an organisation skill, or add aliases to a curated or ESCO one (admins)",
    responses={409: {"description": "Changed since the version sent, or a name just taken"}},
)
async def define_skill(
    skill_id: SkillIdPath,
    body: DefineSkill,
    caller: CurrentPrincipal,
    skills: Skills,
    response: Response,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> SkillView:
    """Publishes `organisation-skill-defined` with the whole definition, unless unchanged."""
    may_define_skills(caller)
    definition = await skills.define(
        skill_id,
        name=body.name,
        aliases=body.aliases,
        description=body.description,
        related=body.related,
        broader=body.broader,
        expected_version=_expected_version(if_match, body.version),
        traceparent=traceparent,
    )
    response.headers["ETag"] = f'"{definition.version}"'
    skill = skills.layer.catalogue.get(skill_id)
    assert skill is not None  # just applied
    return skill_view(skill, definition)


@router.delete(
    "/{skill_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the organisation's definition of a skill (admins)",
    responses=NOT_FOUND,
)
async def remove_skill(
    skill_id: SkillIdPath,
    caller: CurrentPrincipal,
    skills: Skills,
    if_match: IfMatch = None,
    traceparent: TraceParent = None,
) -> None:
    """Publishes a tombstone: the skill is forgotten, or a curated one loses the aliases."""
    may_define_skills(caller)
    await skills.remove(
        skill_id, expected_version=_expected_version(if_match, None), traceparent=traceparent
    )
