"""State records beside change events: the same facts in any order, with redelivery."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_contracts import matching, profiles
from peerloop_contracts.base import Event
from peerloop_contracts.states import (
    HelpRequestState,
    LearnedState,
    OfferState,
    PersonState,
    ProposalState,
    SessionState,
    Tombstone,
)
from peerloop_insights.adapters.memory_facts import MemoryFactLog, MemoryPseudonyms
from peerloop_insights.application.ingest import Ingest
from peerloop_insights.devtools.history import meta_of
from peerloop_insights.domain.changes import change_of, person_ids, request_of_state
from peerloop_insights.domain.facts import ERASED, Facts, PersonFacts, RequestFacts

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _offer(skill: str, on: bool = True) -> OfferState:
    return OfferState(
        skill_id=skill, skill_name=skill.title(), level=3, weekly_capacity=1, willing_to_teach=on
    )


def _person(seq: int, team: str, offers: list[OfferState], **more: object) -> PersonState:
    return PersonState(
        person_id="p-1",
        display_name="Ada",
        team=team,
        time_zone="UTC",
        weekly_capacity=2,
        offers=offers,
        sequence=seq,
        **more,
    )


def _offered(seq: int, skill: str) -> profiles.SkillOffered:
    return profiles.SkillOffered(
        person_id="p-1", skill_id=skill, skill_name=skill, level=3, weekly_capacity=1, sequence=seq
    )


PERSON_HISTORY: list[Event] = [
    profiles.ProfileRegistered(
        person_id="p-1",
        display_name="Ada",
        email="ada@example.com",
        team="billing",
        time_zone="UTC",
        sequence=1,
    ),
    _offered(2, "go"),
    _person(2, "billing", [_offer("go")]),
    _offered(3, "python"),
    _person(3, "billing", [_offer("go"), _offer("python")]),
    profiles.SkillWithdrawn(person_id="p-1", skill_id="go", sequence=4),
    _person(4, "billing", [_offer("python")]),
    profiles.ProfileUpdated(
        person_id="p-1",
        display_name="Ada",
        email="a@example.com",
        team="search",
        time_zone="UTC",
        sequence=5,
    ),
]


def _person_facts(records: list[Event]) -> PersonFacts:
    facts = PersonFacts()
    for record in records:
        change = change_of(record, T0, lambda pid: pid)
        assert change is not None
        facts.merge(change.partial)  # type: ignore[arg-type]
    return facts


@pytest.mark.parametrize(
    ("records", "team", "offering"),
    [
        (PERSON_HISTORY, "search", {"python"}),
        # Only the newest state survived compaction: it alone gives the current person.
        ([PERSON_HISTORY[6]], "billing", {"python"}),
        # An older state and the change events after it: withdrawn go stays withdrawn.
        ([PERSON_HISTORY[4], *PERSON_HISTORY[5:]], "search", {"python"}),
        # A state newer than a change event: the skill it no longer lists is off.
        ([_offered(2, "go"), _person(6, "ops", [])], "ops", set()),
        # A change event newer than the state: the offer it adds is on.
        ([_person(6, "ops", []), _offered(7, "sql")], "ops", {"sql"}),
        # Willing to teach false: kept on the profile, not supply.
        ([_person(2, "ops", [_offer("go", on=False), _offer("sql")])], "ops", {"sql"}),
    ],
)
def test_a_person_is_the_same_in_every_order_and_redelivered(records, team, offering):
    rng = random.Random(5)
    for _ in range(200):  # shuffled, every record twice
        order = records * 2
        rng.shuffle(order)
        facts = _person_facts(order)
        assert (facts.team_name, set(facts.offering())) == (team, offering)


def test_a_person_state_gives_the_skills_learned_at_their_time():
    learned = LearnedState(skill_id="go", skill_name="Go", level=2, acquired_at=T0)
    facts = _person_facts([_person(3, "ops", [], learned=[learned])])
    assert facts.acquired == {"go": T0}


def _proposal(status: str, helper: str = "p-2") -> ProposalState:
    return ProposalState(
        proposal_id="r-1.p1",
        attempt=1,
        helper_id=helper,
        skill_id="go",
        score=0.5,
        status=status,
        proposed_at=T0 + timedelta(minutes=5),  # type: ignore[arg-type]
        expires_at=T0 + timedelta(days=1),
        decided_at=T0 + timedelta(minutes=9) if status == "accepted" else None,
    )


def _request(status: str, seq: int, **more: object) -> HelpRequestState:
    return HelpRequestState(
        request_id="r-1",
        requester_id="p-1",
        status=status,
        skill_id="go",  # type: ignore[arg-type]
        desired_level=2,
        task="a task",
        created_at=T0,
        updated_at=T0 + timedelta(hours=seq),
        sequence=seq,
        **more,
    )


SESSION = SessionState(
    session_id="s-1",
    learner_id="p-1",
    teacher_id="p-2",
    skill_id="go",
    completed_at=T0 + timedelta(hours=5),
    rating_of_teacher=4,
)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (_request("requested", 1), RequestFacts(state=(1, "open"))),
        (_request("waiting", 2), RequestFacts(state=(2, "open"))),
        (
            _request("proposed", 2, proposals=[_proposal("pending")]),
            RequestFacts(state=(2, "proposed"), proposed_at=T0 + timedelta(minutes=5)),
        ),
        (_request("unmatched", 3), RequestFacts(state=(3, "unmatched"))),
        (_request("cancelled", 3), RequestFacts(state=(3, "cancelled"))),
        (
            _request("accepted", 3, proposals=[_proposal("accepted")]),
            RequestFacts(
                state=(3, "accepted"),
                teacher="p-2",
                learner="p-1",
                proposed_at=T0 + timedelta(minutes=5),
                accepted_at=T0 + timedelta(minutes=9),
            ),
        ),
        (
            _request("completed", 6, proposals=[_proposal("accepted")], session=SESSION),
            RequestFacts(
                state=(6, "completed"),
                teacher="p-2",
                learner="p-1",
                proposed_at=T0 + timedelta(minutes=5),
                accepted_at=T0 + timedelta(minutes=9),
                completed_at=T0 + timedelta(hours=5),
                teacher_rating=(6, 4),
            ),
        ),
        (
            _request("not_happened", 5, session=SESSION.model_copy(update={"completed_at": None})),
            RequestFacts(
                state=(5, "not_happened"),
                teacher="p-2",
                learner="p-1",
                not_happened_at=T0 + timedelta(hours=5),
                teacher_rating=(5, 4),
            ),
        ),
        # A helper erased later is redacted to the placeholder: never looked up as a person.
        (
            _request("accepted", 7, proposals=[_proposal("accepted", helper="erased")]),
            RequestFacts(
                state=(7, "accepted"),
                teacher=ERASED,
                learner="p-1",
                proposed_at=T0 + timedelta(minutes=5),
                accepted_at=T0 + timedelta(minutes=9),
            ),
        ),
    ],
)
def test_a_request_state_is_the_partial_its_change_events_make(state, expected):
    expected.requester, expected.skill, expected.requested_at = "p-1", "go", T0
    assert request_of_state(state, lambda pid: pid) == expected
    assert "erased" not in person_ids(state)


REQUEST_HISTORY: list[Event] = [
    matching.HelpRequested(
        request_id="r-1",
        requester_id="p-1",
        skill_id="go",
        desired_level=2,
        task="a task",
        sequence=1,
    ),
    _request("requested", 1),
    matching.MatchAccepted(
        request_id="r-1",
        session_id="s-1",
        skill_id="go",
        requester_id="p-1",
        proposal_id="r-1.p1",
        helper_id="p-2",
        sequence=3,
    ),
    _request("completed", 6, proposals=[_proposal("accepted")], session=SESSION),
    matching.SessionCompleted(
        request_id="r-1",
        level=2,
        duration_minutes=30,
        requester_id="p-1",
        session_id="s-1",
        teacher_id="p-2",
        learner_id="p-1",
        skill_id="go",
        completed_at=T0 + timedelta(hours=5),
        sequence=5,
    ),
]


def test_a_request_is_the_same_in_every_order_and_redelivered():
    folded = set()
    for order in itertools.permutations(REQUEST_HISTORY):
        facts = Facts()
        for record in [*order, *order[:2]]:
            change = change_of(record, T0, lambda pid: pid)
            facts.merge_request("r-1", change.partial)  # type: ignore[union-attr,arg-type]
        request = facts.requests["r-1"]
        folded.add((request.state_name, request.teacher, request.learner, request.completed_at))
    assert folded == {("completed", "p-2", "p-1", T0 + timedelta(hours=5))}


async def test_a_person_tombstone_erases_them_as_profile_erased_does():
    log, names = MemoryFactLog(), MemoryPseudonyms()
    ingest = Ingest(log, names)
    state = _person(2, "billing", [_offer("go")])
    await ingest.handle(state, meta_of(state, T0))
    assert "p-1" in names.by_person
    await ingest.handle(Tombstone(PersonState, "p-1"), meta_of(state, T0))
    assert "p-1" not in names.by_person
    # A help request's tombstone erases nobody.
    await ingest.handle(Tombstone(HelpRequestState, "r-9"), meta_of(state, T0))
    assert await names.tokens(["p-2"])
