"""Entity state records, over the in-memory stores: matching's candidates rebuilt from a
person's state (in any order with the change events), and each help request's state
queued with its events, tombstoned or redacted on erasure."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from matching_fakes import META, Matching
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.profiles import ProfileErased, SkillOffered, SkillWithdrawn
from peerloop_contracts.states import (
    GoalState,
    HelpRequestState,
    LearnedState,
    OfferState,
    PersonState,
    Tombstone,
)
from peerloop_matching.domain.help_request import ERASED

from .test_use_cases_projections import _offered


@pytest.fixture
def m() -> Matching:
    return Matching()


def _state(pid: str, seq: int, *offers: tuple[str, int]) -> PersonState:
    return PersonState(
        person_id=pid,
        display_name=pid,
        team="billing",
        time_zone="Europe/Berlin",
        working_hours=WorkingHours(start="08:00", end="16:00"),
        weekly_capacity=4,
        away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2026, 12, 31))],
        offers=[
            OfferState(skill_id=s, skill_name=s, level=level, weekly_capacity=2)
            for s, level in offers
        ],
        goals=[GoalState(skill_id="go", target_level=2)],
        learned=[
            LearnedState(
                skill_id="sql", skill_name="SQL", level=2, acquired_at="2026-11-01T10:00:00Z"
            )
        ],
        sequence=seq,
    )


async def test_a_state_alone_makes_the_whole_candidate(m: Matching) -> None:
    await m.projection.on_person_state(_state("p", 7, ("python", 4), ("rust", 2)), META)
    person = await m.candidates.get("p")
    assert person is not None
    assert (person.team, person.time_zone, person.weekly_capacity) == (
        "billing",
        "Europe/Berlin",
        4,
    )
    assert (person.hours.start, person.away) == (
        8 * 60,
        ((date(2026, 12, 20), date(2026, 12, 31)),),
    )
    assert {s: o.level for s, o in person.offers.items()} == {"python": 4, "rust": 2}
    assert m.index.get("p") == person


async def test_change_events_older_than_the_state_change_nothing_newer_ones_apply(
    m: Matching,
) -> None:
    await m.projection.on_person_state(_state("p", 7, ("python", 4)), META)
    await m.projection.on_skill_offered(_offered("p", 5, level=1), META)  # already in the state
    await m.projection.on_skill_withdrawn(
        SkillWithdrawn(person_id="p", skill_id="python", sequence=6), META
    )
    assert (await m.candidates.get("p")).offers["python"].level == 4  # type: ignore[union-attr]
    await m.projection.on_skill_offered(_offered("p", 8, skill="go", level=3), META)
    person = await m.candidates.get("p")
    assert person is not None and set(person.offers) == {"python", "go"}


async def test_a_state_older_than_the_applied_events_changes_nothing_they_set(
    m: Matching,
) -> None:
    await m.projection.on_skill_offered(_offered("p", 9, skill="go", level=3), META)
    await m.projection.on_person_state(_state("p", 7, ("python", 4)), META)  # go came later
    person = await m.candidates.get("p")
    assert person is not None and {s: o.level for s, o in person.offers.items()} == {
        "go": 3,
        "python": 4,
    }


async def test_an_offer_missing_from_a_newer_state_is_withdrawn(m: Matching) -> None:
    await m.projection.on_skill_offered(_offered("p", 3, skill="go"), META)
    await m.projection.on_person_state(_state("p", 7, ("python", 4)), META)
    person = await m.candidates.get("p")
    assert person is not None and set(person.offers) == {"python"}
    # The late offer event of go (sequence 3) cannot bring it back.
    await m.projection.on_skill_offered(_offered("p", 3, skill="go"), META)
    assert set((await m.candidates.get("p")).offers) == {"python"}  # type: ignore[union-attr]


async def test_a_tombstone_erases_the_candidate_and_their_requests(m: Matching) -> None:
    await m.projection.on_person_state(_state("gone", 2), META)
    await m.person("tom", teaches="python")
    request_id = await m.ask("gone")
    await m.projection.on_person_state(Tombstone(PersonState, "gone"), META)
    assert await m.candidates.get("gone") is None
    assert await m.candidates.erased("gone")
    assert await m.requests.load(request_id) is None
    # A state or event about them arriving late brings nothing back.
    await m.projection.on_person_state(_state("gone", 9, ("python", 5)), META)
    await m.projection.on_skill_offered(
        SkillOffered(
            person_id="gone",
            skill_id="go",
            skill_name="Go",
            level=2,
            weekly_capacity=1,
            sequence=10,
        ),
        META,
    )
    assert await m.candidates.get("gone") is None
    assert m.index.get("gone") is None


async def test_every_saved_change_of_a_request_queues_its_state(m: Matching) -> None:
    await m.person("lea")
    await m.person("tom", teaches="python")
    request_id = await m.ask("lea")
    await m.use_cases.accept(request_id, f"{request_id}.p1", "tom")
    await m.use_cases.confirm(request_id, "lea")
    await m.use_cases.confirm(request_id, "tom", minutes=40)
    await m.use_cases.give_feedback(request_id, "lea", rating=5, comment="tom knew it all")
    states = m.requests.states[request_id]
    assert all(isinstance(s, HelpRequestState) for s in states)
    assert [s.status for s in states if isinstance(s, HelpRequestState)] == [
        "requested",
        "proposed",
        "accepted",
        "completed",
        "completed",
    ]
    events = m.requests.events(request_id)
    last = states[-1]
    assert isinstance(last, HelpRequestState)
    assert last.sequence == events[-1].sequence == len(events)
    assert last.session is not None
    assert (last.session.teacher_id, last.session.duration_minutes) == ("tom", 40)
    assert (last.session.rating_of_teacher, last.session.rating_of_learner) == (5, None)
    assert "tom knew it all" not in last.model_dump_json()


async def test_erasure_tombstones_the_requesters_requests_and_redacts_those_helped(
    m: Matching,
) -> None:
    await m.person("lea")
    await m.person("gone", teaches="python")
    helped = await m.ask("lea")
    await m.use_cases.accept(helped, f"{helped}.p1", "gone")
    asked = await m.ask("gone")
    before = m.requests.states[helped][-1]
    assert isinstance(before, HelpRequestState)

    await m.projection.on_profile_erased(ProfileErased(person_id="gone", sequence=9), META)

    assert m.requests.states[asked][-1] == Tombstone(HelpRequestState, asked)
    redacted = m.requests.states[helped][-1]
    assert isinstance(redacted, HelpRequestState)
    assert redacted.sequence == before.sequence + 1  # newer than anything published before
    assert [p.helper_id for p in redacted.proposals] == [ERASED]
    assert redacted.session is not None and redacted.session.teacher_id == ERASED
    assert "gone" not in redacted.model_dump_json()
    assert asked in m.woken and helped in m.woken


async def test_a_state_brings_the_manager_so_a_rebuilt_candidate_keeps_the_reporting_line(
    m: Matching,
) -> None:
    state = _state("p", 3, ("python", 4)).model_copy(update={"manager_id": "p-boss"})
    await m.projection.on_person_state(state, META)
    person = await m.candidates.get("p")
    assert person is not None and person.manager_id == "p-boss"


async def test_a_waiting_request_says_so_in_its_state_and_why() -> None:
    m = Matching(longest_wait=timedelta(days=14))
    await m.person("lea")
    request_id = await m.ask("lea")
    last = m.requests.states[request_id][-1]
    assert isinstance(last, HelpRequestState)
    assert (last.status, last.waiting_reason) == ("waiting", "no_one_offers")
    assert last.wait_until is not None and last.waiting_since is not None


async def test_a_pause_on_the_state_holds_a_rebuilt_candidates_proposals(m: Matching) -> None:
    state = _state("p", 3, ("python", 4)).model_copy(
        update={"proposals_paused_until": date(2027, 1, 10)}
    )
    await m.projection.on_person_state(state, META)
    person = await m.candidates.get("p")
    assert person is not None and person.paused_until == date(2027, 1, 10)
