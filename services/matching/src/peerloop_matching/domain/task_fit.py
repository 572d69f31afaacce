"""`task_fit`: how close a helper's own description of their offer is to the request's task.

Applied as a re-rank of the engine's shortlist (its best few), never over all candidates:
the similarities come in, computed by the application from an embedding model. E5 cosines
of unrelated English text sit near 0.75, so the value rescales the cosine from that floor
to 1; an offer without a description earns nothing and says so.
"""

from __future__ import annotations

from dataclasses import replace

from peerloop_matching.domain.scoring import Component, Scored

NAME = "task_fit"
COSINE_FLOOR = 0.75
"""A cosine at or below this is unrelated text: value 0."""
QUOTE_CHARS = 60
"""An offer description is quoted in "why" up to this many characters."""


def fit_value(cosine: float) -> float:
    return round(min(max((cosine - COSINE_FLOOR) / (1 - COSINE_FLOOR), 0.0), 1.0), 6)


def _quoted(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def task_fit(cosine: float | None, description: str, weight: float) -> Component:
    """The component for one helper; `cosine` is None when the offer has no description."""
    if cosine is None or not description.strip():
        return Component(NAME, weight, 0.0, "no offer description to compare with the task")
    value = fit_value(cosine)
    closeness = "close to" if value >= 0.5 else "somewhat like" if value > 0 else "unlike"
    sentence = f"your offer '{_quoted(description)}' is {closeness} this task"
    return Component(NAME, weight, value, sentence)


def rerank(
    shortlist: tuple[Scored, ...], cosines: dict[str, float], weight: float
) -> tuple[Scored, ...]:
    """Add `task_fit` to each shortlisted helper and rank again (ties by person id).

    `cosines` holds, per person id, the cosine of the task to the description of the offer
    they were shortlisted for; a person missing from it has no description. Weight 0 leaves
    the shortlist as the engine ranked it."""
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
                ),
            ),
        )
        for s in shortlist
    ]
    return tuple(sorted(rescored, key=lambda s: (-s.score, s.candidate.person_id)))
