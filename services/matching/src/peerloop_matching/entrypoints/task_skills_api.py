"""Skills suggested from the task in hand (`POST /task-skills`), and the skill a request
that names none is made for.

The model and the skill vectors are built once per process on first use, off the event
loop; each task is embedded in a worker thread (about 20-30 ms of one core).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, status
from peerloop_contracts.common import Task
from peerloop_contracts.skills import default_catalogue
from peerloop_runtime.auth import CurrentPrincipal
from pydantic import BaseModel, ConfigDict, Field

from peerloop_matching.adapters.e5_embedder import E5Embedder
from peerloop_matching.application.task_text import Suggestions, TaskSkills

router = APIRouter(prefix="/task-skills", tags=["task skills"])

_lock = asyncio.Lock()


async def task_skills(request: Request) -> TaskSkills:
    built: TaskSkills | None = getattr(request.app.state, "task_skills", None)
    if built is None:
        async with _lock:
            built = getattr(request.app.state, "task_skills", None)
            if built is None:
                built = await asyncio.to_thread(
                    TaskSkills, E5Embedder(threads=1), default_catalogue()
                )
                request.app.state.task_skills = built
    return built


async def suggest(request: Request, task: str, limit: int = 5) -> Suggestions:
    model = await task_skills(request)
    return await asyncio.to_thread(model.suggest, task, limit)


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: Task = Field(description="the task in hand, as typed so far")
    limit: int = Field(default=5, ge=1, le=20)


class SuggestedSkill(BaseModel):
    id: str
    name: str
    score: float
    named: bool = Field(description="the task names the skill or an alias")


class SuggestionsOut(BaseModel):
    skills: list[SuggestedSkill]
    model: str
    took_ms: float


def suggestions_out(found: Suggestions) -> SuggestionsOut:
    catalogue = default_catalogue()
    return SuggestionsOut(
        skills=[
            SuggestedSkill(
                id=s.skill_id, name=catalogue.display_name(s.skill_id), score=s.score, named=s.named
            )
            for s in found.skills
        ],
        model=found.model_id,
        took_ms=found.took_ms,
    )


@router.post("", summary="Skills the task in hand needs, best first (for the ask form)")
async def suggest_skills(
    body: TaskIn, _caller: CurrentPrincipal, request: Request
) -> SuggestionsOut:
    if not body.task.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "describe the task in hand")
    return suggestions_out(await suggest(request, body.task, body.limit))


async def inferred_skill(request: Request, task: str) -> tuple[str, list[str]]:
    """The skill a request naming none is made for, and every skill inferred (shown)."""
    found = await suggest(request, task)
    if not found.skills:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "no skill could be inferred from the task: name the skill (field `skill`)",
        )
    return found.skills[0].skill_id, [s.skill_id for s in found.skills]
