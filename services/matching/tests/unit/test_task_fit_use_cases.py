"""Matching with `task_fit`: the helper whose offer describes the task is proposed, "why"
says so, and the model embeds the task once per request and each description once."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest
from matching_fakes import META, Matching
from peerloop_contracts.common import WorkingHours
from peerloop_contracts.matching import MatchProposed
from peerloop_contracts.states import OfferState, PersonState
from peerloop_matching.application.task_fit import TaskFit
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.task_fit import PastTask
from peerloop_matching.domain.task_skills import Vector

VOCABULARY = ("mongo", "aggregation", "index", "react", "css")


class WordsEmbedder:
    """A bag of words over a small vocabulary, L2-normalised: close text, close vectors."""

    model_id = "words"

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.passages_seen: list[str] = []

    @staticmethod
    def _vector(text: str) -> Vector:
        words = set(re.findall(r"[a-z]+", text.lower()))
        raw = np.array([1.0 if w in words else 0.0 for w in VOCABULARY], dtype=np.float32)
        norm = float(np.linalg.norm(raw))
        return raw / norm if norm else raw

    def query(self, text: str) -> Vector:
        self.queries.append(text)
        return self._vector(text)

    def passages(self, texts: Sequence[str]) -> Vector:
        self.passages_seen.extend(texts)
        return (
            np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, len(VOCABULARY)))
        )


TASK = "billing report: mongo aggregation slow since the index change"


async def _two_helpers(m: Matching) -> None:
    await m.person("learner")
    await m.person("a-react", teaches="mongodb", description="react, css")
    await m.person(
        "b-tuner", teaches="mongodb", description="mongo aggregation pipelines, index tuning"
    )


def _proposal(m: Matching, request_id: str) -> MatchProposed:
    proposed = [e for e in m.requests.events(request_id) if isinstance(e, MatchProposed)]
    assert proposed
    return proposed[-1]


async def test_without_task_fit_the_engine_order_decides():
    m = Matching()
    await _two_helpers(m)
    proposal = _proposal(m, await m.ask("learner", "mongodb", task=TASK))
    assert proposal.helper_id == "a-react"
    assert "task_fit" not in [c.name for c in proposal.breakdown]


async def test_the_helper_whose_offer_describes_the_task_is_proposed_and_why_says_so():
    embedder = WordsEmbedder()
    m = Matching(task_fit=TaskFit(embedder), weights=Weights(task_fit=0.1))
    await _two_helpers(m)
    proposal = _proposal(m, await m.ask("learner", "mongodb", task=TASK))
    assert proposal.helper_id == "b-tuner"
    fit = next(c for c in proposal.breakdown if c.name == "task_fit")
    assert fit.weight == 0.1
    assert fit.value > 0
    assert fit.explanation == (
        "your offer 'mongo aggregation pipelines, index tuning' is close to this task"
    )
    assert proposal.score == pytest.approx(sum(c.contribution for c in proposal.breakdown))


async def test_the_task_is_embedded_once_per_request_and_each_description_once():
    embedder = WordsEmbedder()
    m = Matching(task_fit=TaskFit(embedder), weights=Weights(task_fit=0.1))
    await _two_helpers(m)
    await m.person("learner-2")
    await m.ask("learner", "mongodb", task=TASK)
    await m.ask("learner-2", "mongodb", task="mongo index")
    assert embedder.queries == [TASK, "mongo index"]
    assert sorted(embedder.passages_seen) == [
        "mongo aggregation pipelines, index tuning",
        "react, css",
    ]


async def test_weight_zero_never_calls_the_model():
    embedder = WordsEmbedder()
    m = Matching(task_fit=TaskFit(embedder), weights=Weights(task_fit=0.0))
    await _two_helpers(m)
    proposal = _proposal(m, await m.ask("learner", "mongodb", task=TASK))
    assert proposal.helper_id == "a-react"
    assert embedder.queries == [] and embedder.passages_seen == []


async def test_the_read_model_keeps_the_offer_description_from_events_and_states():
    m = Matching()
    await m.person("p", teaches="mongodb", description="index tuning")
    from_event = await m.candidates.get("p")
    assert from_event is not None
    assert from_event.offers["mongodb"].description == "index tuning"
    state = PersonState(
        person_id="q",
        display_name="q",
        team="billing",
        time_zone="UTC",
        working_hours=WorkingHours(start="08:00", end="16:00"),
        weekly_capacity=4,
        offers=[
            OfferState(
                skill_id="mongodb",
                skill_name="MongoDB",
                level=4,
                weekly_capacity=2,
                description="aggregation pipelines",
            )
        ],
        sequence=3,
    )
    await m.projection.on_person_state(state, META)
    from_state = await m.candidates.get("q")
    assert from_state is not None
    assert from_state.offers["mongodb"].description == "aggregation pipelines"


async def test_a_helper_who_taught_a_task_like_this_before_ranks_higher_and_why_says_so():
    embedder = WordsEmbedder()
    m = Matching(task_fit=TaskFit(embedder), weights=Weights(task_fit=0.1))
    await m.person("learner")
    await m.person("old-learner")
    await m.person("a-first", teaches="mongodb")
    await m.person("b-veteran", teaches="mongodb")
    # b-veteran once taught a completed session on a task like this one.
    past = await m.ask("old-learner", "mongodb", task="mongo aggregation needs an index")
    request = await m.use_cases.get(past)
    first = request.pending
    assert first is not None
    if first.helper_id != "b-veteran":
        await m.use_cases.decline(past, first.proposal_id, first.helper_id, reason="busy")
        request = await m.use_cases.get(past)
    pending = request.pending
    assert pending is not None and pending.helper_id == "b-veteran"
    await m.use_cases.accept(past, pending.proposal_id, "b-veteran")
    for who in ("old-learner", "b-veteran"):
        await m.use_cases.confirm(past, who, minutes=30)
    assert (await m.use_cases.get(past)).state == "completed"
    assert await m.requests.tasks_taught(["a-first", "b-veteran"], 3) == [
        PastTask(past, "b-veteran", "mongo aggregation needs an index")
    ]

    proposal = _proposal(m, await m.ask("learner", "mongodb", task=TASK))
    assert proposal.helper_id == "b-veteran"
    fit = next(c for c in proposal.breakdown if c.name == "task_fit")
    assert fit.value > 0
    assert fit.explanation == "helped with a task close to this one before"
    assert "mongo aggregation needs an index" not in " ".join(
        c.explanation for c in proposal.breakdown
    )
