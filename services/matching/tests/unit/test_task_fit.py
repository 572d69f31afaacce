"""`task_fit`: the shortlist re-ranked by how close each offer's description is to the task."""

from __future__ import annotations

import pytest
from matching_builders import person
from peerloop_matching.domain.candidate import Offer
from peerloop_matching.domain.scoring import Component, Scored
from peerloop_matching.domain.task_fit import fit_value, rerank, task_fit


@pytest.mark.parametrize(
    ("cosine", "value"),
    [(0.50, 0.0), (0.75, 0.0), (0.80, 0.2), (0.875, 0.5), (1.0, 1.0), (1.2, 1.0)],
)
def test_the_value_rescales_the_cosine_above_the_floor_of_unrelated_text(cosine, value):
    assert fit_value(cosine) == pytest.approx(value)


@pytest.mark.parametrize(
    ("cosine", "description", "value", "explanation"),
    [
        (
            0.95,
            "aggregation pipelines, index tuning",
            0.8,
            "your offer 'aggregation pipelines, index tuning' is close to this task",
        ),
        (0.80, "schema design", 0.2, "your offer 'schema design' is somewhat like this task"),
        (0.60, "react, css", 0.0, "your offer 'react, css' is unlike this task"),
        (None, "", 0.0, "no offer description to compare with the task"),
        (0.99, "   ", 0.0, "no offer description to compare with the task"),
        (
            0.95,
            "x" * 80,
            0.8,
            f"your offer '{'x' * 59}…' is close to this task",
        ),
    ],
)
def test_the_component_quotes_the_offer(cosine, description, value, explanation):
    found = task_fit(cosine, description, 0.1)
    assert (found.name, found.weight, found.explanation) == ("task_fit", 0.1, explanation)
    assert found.value == pytest.approx(value)


def _scored(pid: str, score: float, description: str) -> Scored:
    helper = person(pid, extra_offers=(Offer("mongodb", 4, True, 2, description),))
    return Scored(helper, "mongodb", (Component("skill_fit", 1.0, score, "offers mongodb"),))


SHORTLIST = (
    _scored("a", 0.60, "react, css"),
    _scored("b", 0.58, "aggregation pipelines, index tuning"),
    _scored("c", 0.55, ""),
)


@pytest.mark.parametrize(
    ("cosines", "weight", "order"),
    [
        ({"a": 0.70, "b": 0.95}, 0.0, ["a", "b", "c"]),  # weight 0: as the engine ranked
        ({"a": 0.70, "b": 0.95}, 0.01, ["a", "b", "c"]),  # 0.008 does not close a 0.02 gap
        ({"a": 0.70, "b": 0.95}, 0.10, ["b", "a", "c"]),  # 0.08 does
        ({"a": 0.95, "b": 0.95}, 0.10, ["a", "b", "c"]),  # both as close: order kept
        ({"a": 0.70, "b": 0.70}, 0.50, ["a", "b", "c"]),  # both unrelated: nothing earned
        ({}, 0.10, ["a", "b", "c"]),  # no description known
    ],
)
def test_rerank_orders_the_shortlist_by_score_with_task_fit(cosines, weight, order):
    ranked = rerank(SHORTLIST, cosines, weight)
    assert [s.candidate.person_id for s in ranked] == order
    if weight > 0:
        assert all(s.components[-1].name == "task_fit" for s in ranked)
    else:
        assert ranked == SHORTLIST


def test_a_helper_without_a_description_gets_task_fit_zero_and_is_told_why():
    blank = rerank(SHORTLIST, {"a": 0.9, "b": 0.9}, 0.1)[-1]
    assert blank.candidate.person_id == "c"
    assert blank.components[-1].value == 0.0
    assert blank.score == pytest.approx(0.55)


@pytest.mark.parametrize(
    ("cosine", "description", "past", "value", "explanation"),
    [
        # A task helped with before that is closer than the offer wins, unquoted.
        (0.80, "schema design", 0.95, 0.8, "helped with a task close to this one before"),
        (None, "", 0.80, 0.2, "helped with a task somewhat like this one before"),
        # The offer closer than any past task: the offer is quoted as before.
        (
            0.95,
            "index tuning",
            0.80,
            0.8,
            "your offer 'index tuning' is close to this task",
        ),
        # Unlike past tasks add nothing and say nothing.
        (None, "", 0.60, 0.0, "no offer description to compare with the task"),
        (0.60, "react, css", 0.70, 0.0, "your offer 'react, css' is unlike this task"),
    ],
)
def test_a_task_helped_with_before_counts_like_the_offer_and_is_never_quoted(
    cosine, description, past, value, explanation
):
    component = task_fit(cosine, description, 0.1, past)
    assert (component.value, component.explanation) == (pytest.approx(value), explanation)
