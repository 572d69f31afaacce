"""`task_fit`: how close a helper's own description of their offer, or a task they helped
with before, is to the request's task.

Applied as a re-rank of the engine's shortlist (its best few), never over all candidates:
the similarities come in, computed by the application from an embedding model. E5 cosines
of unrelated English text sit near 0.75, so the value rescales the cosine from that floor
to 1; an offer without a description earns nothing and says so. A past task is never
quoted: it is another requester's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from peerloop_matching.domain.scoring import Component, Scored

NAME = "task_fit"
COSINE_FLOOR = 0.75
"""A cosine at or below this is unrelated text: value 0."""
QUOTE_CHARS = 60
"""An offer description is quoted in "why" up to this many characters."""


PAST_TASKS = 3
"""Tasks of completed sessions compared per shortlisted helper, the latest first."""


@dataclass(frozen=True)
class PastTask:
    """The task of a completed session a helper taught."""

    request_id: str
    teacher_id: str
    task: str


def fit_value(cosine: float) -> float:
    return round(min(max((cosine - COSINE_FLOOR) / (1 - COSINE_FLOOR), 0.0), 1.0), 6)


def _quoted(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def task_fit(
    cosine: float | None, description: str, weight: float, past: float | None = None
) -> Component:
    """The component for one helper: `cosine` is None when the offer has no description,
    `past` the best cosine of the tasks they helped with before (None: none yet)."""
    offer = fit_value(cosine) if cosine is not None and description.strip() else None
    before = fit_value(past) if past is not None else None
    if before is not None and before > 0 and (offer is None or before > offer):
        closeness = "close to" if before >= 0.5 else "somewhat like"
        return Component(NAME, weight, before, f"helped with a task {closeness} this one before")
    if offer is None:
        return Component(NAME, weight, 0.0, "no offer description to compare with the task")
    value = offer
    closeness = "close to" if value >= 0.5 else "somewhat like" if value > 0 else "unlike"
    sentence = f"your offer '{_quoted(description)}' is {closeness} this task"
    return Component(NAME, weight, value, sentence)


def rerank(
    shortlist: tuple[Scored, ...],
    cosines: Mapping[str, float],
    weight: float,
    past: Mapping[str, float] | None = None,
) -> tuple[Scored, ...]:
    """Add `task_fit` to each shortlisted helper and rank again (ties by person id).

    `cosines` holds, per person id, the cosine of the task to the description of the offer
    they were shortlisted for; a person missing from it has no description. `past` holds,
    per person id, the best cosine of the task to tasks they helped with before. Weight 0
    leaves the shortlist as the engine ranked it."""
    past = past or {}
    if weight <= 0:
        return shortlist
    rescored = [
        replace(
            s,
            components=(
                *s.components,
                task_fit(
                    cosines.get(s.candidate.person_id),
                    s.candidate.offers[s.skill_id].description,
                    weight,
                    past.get(s.candidate.person_id),
                ),
            ),
        )
        for s in shortlist
    ]
    return tuple(sorted(rescored, key=lambda s: (-s.score, s.candidate.person_id)))
