"""Merging partial facts: order and repetition change nothing (idempotent consumers)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_insights.domain.facts import (
    ERASED,
    Facts,
    PersonFacts,
    RequestFacts,
    facts_from_doc,
    facts_to_doc,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)

PARTIALS = [
    RequestFacts(requester="a", skill="go", requested_at=T0, state=(1, "open")),
    RequestFacts(
        requester="a", skill="go", proposed_at=T0 + timedelta(minutes=3), state=(2, "proposed")
    ),
    RequestFacts(
        requester="a",
        teacher="b",
        learner="a",
        accepted_at=T0 + timedelta(hours=1),
        state=(3, "accepted"),
    ),
    RequestFacts(requester="a", completed_at=T0 + timedelta(days=1), state=(4, "completed")),
    RequestFacts(requester="a", teacher_rating=(5, 4)),
]


def _fold(parts: list[RequestFacts]) -> RequestFacts:
    facts = Facts()
    for p in parts:
        facts.merge_request("r", p)
    return facts.requests["r"]


def test_every_order_and_a_redelivery_give_the_same_request():
    expected = _fold(PARTIALS)
    for order in itertools.permutations(PARTIALS):
        assert _fold([*order, *order[:2]]) == expected
    assert expected.state_name == "completed"
    assert expected.teacher_rating == (5, 4)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (PersonFacts(team=(1, "billing")), PersonFacts(team=(3, "search")), "search"),
        (PersonFacts(team=(3, "search")), PersonFacts(team=(1, "billing")), "search"),
    ],
)
def test_a_team_is_the_newest_sequence(first, second, expected):
    facts = Facts()
    facts.merge_person("t", first)
    facts.merge_person("t", second)
    assert facts.people["t"].team_name == expected


def test_an_offer_withdrawn_later_is_not_on_offer_whatever_the_order():
    offered = PersonFacts(offers={"go": (2, True)}, first_offered={"go": T0})
    withdrawn = PersonFacts(offers={"go": (5, False)})
    for parts in ((offered, withdrawn), (withdrawn, offered)):
        facts = Facts()
        for p in parts:
            facts.merge_person("t", p)
        assert facts.people["t"].offering() == frozenset()
        assert facts.people["t"].first_offered == {"go": T0}


def test_erased_tokens_become_the_placeholder_and_lose_their_own_facts():
    facts = Facts()
    facts.merge_request("r", RequestFacts(requester="a", teacher="b", learner="a"))
    facts.merge_person("a", PersonFacts(team=(1, "billing")))
    kept = facts.without({"a"})
    assert kept.requests["r"].requester == ERASED
    assert kept.requests["r"].learner == ERASED
    assert kept.requests["r"].teacher == "b"
    assert "a" not in kept.people
    assert facts.requests["r"].requester == "a"  # the folded facts stay as they were


def test_the_stored_form_round_trips_skill_ids_with_dots():
    facts = Facts()
    facts.merge_request("r.1", _fold(PARTIALS))
    facts.merge_person(
        "t", PersonFacts(team=(1, "x"), offers={"node.js": (1, True)}, acquired={"c#": T0})
    )
    assert facts_from_doc(facts_to_doc(facts)) == facts


def test_the_store_codec_keeps_every_time_to_the_microsecond():
    from peerloop_insights.adapters.fact_log import decode, encode

    facts = Facts()
    facts.merge_request("r", _fold(PARTIALS))
    facts.merge_person("t", PersonFacts(acquired={"go": T0 + timedelta(microseconds=7)}))
    assert decode(encode(facts)) == facts
