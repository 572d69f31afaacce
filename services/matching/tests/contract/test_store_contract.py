"""One contract, two stores: the in-memory stores the unit tests use behave as the real one.

Every test runs against the in-memory store and against the real store (marked
`integration`), with the same assertions: version checks, idempotency, the order of
parts, capacity under concurrent reservations, erasure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from peerloop_contracts.matching import HelpRequestCancelled
from peerloop_matching.adapters.candidate_store import CandidateStore
from peerloop_matching.adapters.memory_candidates import InMemoryCandidates
from peerloop_matching.adapters.memory_requests import InMemoryHelpRequests
from peerloop_matching.adapters.request_store import RequestStore
from peerloop_matching.application.ports import (
    CandidateRepository,
    HelpRequestRepository,
    PersonParts,
)
from peerloop_matching.domain.candidate import Reservation, iso_week
from peerloop_matching.domain.help_request import HelpRequest
from pymongo import AsyncMongoClient

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("mongo", id="mongo", marks=pytest.mark.integration),
]


@pytest.fixture(params=STORES)
async def stores(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[HelpRequestRepository, CandidateRepository]]:
    if request.param == "memory":
        yield InMemoryHelpRequests(), InMemoryCandidates()
        return
    uri: str = request.getfixturevalue("mongodb_uri")  # only the real side needs the store
    db = f"t_{uuid.uuid4().hex[:12]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        uri, tz_aware=True
    )  # as the service reads it
    try:
        requests = RequestStore(client[db]["help_requests"])
        candidates = CandidateStore(client[db]["candidates"])
        await requests.ensure_indexes()
        await candidates.ensure_indexes()
        yield requests, candidates
    finally:
        await client.drop_database(db)
        await client.close()


@pytest.fixture
def requests(stores: tuple[HelpRequestRepository, CandidateRepository]) -> HelpRequestRepository:
    return stores[0]


@pytest.fixture
def candidates(stores: tuple[HelpRequestRepository, CandidateRepository]) -> CandidateRepository:
    return stores[1]


def _request(request_id: str = "r-1", requester: str = "lea") -> HelpRequest:
    request, _ = HelpRequest.create(
        request_id=request_id,
        requester_id=requester,
        skill_id="python",
        desired_level=2,
        task="a task",
        created_at=NOW,
    )
    return request


def _cancelled(request: HelpRequest) -> HelpRequestCancelled:
    return HelpRequestCancelled(
        request_id=request.request_id,
        requester_id=request.requester_id,
        skill_id="python",
        sequence=2,
    )


# -- help requests ---------------------------------------------------------------------------


async def test_an_id_is_inserted_once(requests: HelpRequestRepository) -> None:
    assert await requests.insert(_request(), [])
    assert not await requests.insert(_request(), [])


async def test_a_save_wins_only_on_the_version_it_was_loaded_at(
    requests: HelpRequestRepository,
) -> None:
    await requests.insert(_request(), [])
    first, second = await requests.load("r-1"), await requests.load("r-1")
    assert first is not None and second is not None
    first.state = "cancelled"
    assert await requests.save(first, [_cancelled(first)])
    assert first.version == 1
    second.task = "changed meanwhile"
    assert not await requests.save(second, [])
    assert second.version == 0  # unchanged by the lost save
    stored = await requests.load("r-1")
    assert stored is not None and (stored.state, stored.task, stored.version) == (
        "cancelled",
        "a task",
        1,
    )


async def test_a_loaded_request_changes_only_when_saved(requests: HelpRequestRepository) -> None:
    await requests.insert(_request(), [])
    loaded = await requests.load("r-1")
    assert loaded is not None
    loaded.task = "not saved"
    assert (await requests.load("r-1")).task == "a task"  # type: ignore[union-attr]


async def test_finding_deleting_and_overwriting(requests: HelpRequestRepository) -> None:
    await requests.insert(_request("r-1", "lea"), [])
    await requests.insert(_request("r-2", "max"), [])
    assert [r.request_id for r in await requests.requested_by("lea")] == ["r-1"]
    assert await requests.helped_by("tom") == []
    erased = await requests.load("r-2")
    assert erased is not None
    erased.task = "rewritten"
    await requests.overwrite(erased)
    rewritten = await requests.load("r-2")
    assert rewritten is not None and (rewritten.task, rewritten.version) == ("rewritten", 0)
    await requests.delete("r-1")
    assert await requests.load("r-1") is None
    assert await requests.due_for_expiry(NOW + timedelta(days=9)) == []


async def test_waiting_requests_by_skill_recheck_and_end(requests: HelpRequestRepository) -> None:
    """Only waiting requests are found: by skill then age, by recheck time, by wait end."""
    for n, (skill, age) in enumerate([("python", 2), ("go", 3), ("python", 1), ("python", 0)]):
        request, _ = HelpRequest.create(
            request_id=f"r-{n}",
            requester_id="lea",
            skill_id=skill,
            desired_level=2,
            task="a task",
            created_at=NOW - timedelta(hours=age),
        )
        await requests.insert(request, [])
        if n == 3:
            continue  # still requested: not waiting
        stored = await requests.load(request.request_id)
        assert stored is not None
        stored.wait(
            "no_one_offers",
            "nobody",
            now=NOW,
            until=NOW + timedelta(days=n + 1),
            recheck_at=NOW + timedelta(minutes=5 - n),
        )
        assert await requests.save(stored, [])
    assert await requests.waiting_for(["python", "go"]) == ["r-1", "r-0", "r-2"]
    assert await requests.waiting_for(["python"], limit=1) == ["r-0"]
    assert await requests.recheck_due(NOW + timedelta(minutes=4)) == ["r-2", "r-1"]
    assert await requests.waits_over(NOW + timedelta(days=2)) == ["r-0", "r-1"]
    assert await requests.waits_over(NOW) == []


# -- candidates ------------------------------------------------------------------------------

OFFER = {"skill_id": "asp.net", "level": 4, "willing_to_teach": True, "weekly_capacity": 1}
PROFILE = {"team": "billing", "time_zone": "UTC", "working_hours": None}


def _hold(proposal_id: str) -> Reservation:
    return Reservation(
        proposal_id=proposal_id,
        request_id=f"r-{proposal_id}",
        skill_id="asp.net",
        week=iso_week(NOW),
        kind="pending",
        created_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


async def test_a_part_is_written_only_if_newer(candidates: CandidateRepository) -> None:
    assert await candidates.apply_offer("p", "asp.net", 3, OFFER) is not None
    assert await candidates.apply_profile("p", 1, PROFILE) is not None
    assert await candidates.apply_offer("p", "asp.net", 2, {**OFFER, "level": 1}) is None
    assert await candidates.apply_offer("p", "asp.net", 3, {**OFFER, "level": 1}) is None
    person = await candidates.get("p")
    assert person is not None and (person.team, person.offers["asp.net"].level) == ("billing", 4)


def _parts(*skills: str, team: str = "billing") -> PersonParts:
    return PersonParts(
        profile={**PROFILE, "team": team},
        availability={"weekly_capacity": 3, "time_zone": "UTC", "away_periods": []},
        offers={s: {**OFFER, "skill_id": s} for s in skills},
        learned={},
    )


async def test_a_state_sets_every_part_but_newer_ones_and_stops_older_events(
    candidates: CandidateRepository,
) -> None:
    assert await candidates.apply_offer("p", "go", 2, {**OFFER, "skill_id": "go"}) is not None
    assert await candidates.apply_offer("p", "sql", 9, {**OFFER, "skill_id": "sql"}) is not None
    person = await candidates.apply_state("p", 5, _parts("asp.net", team="ops"))
    assert person is not None
    # go is not in the state (withdrawn by then); sql came after it and stays.
    assert (person.team, person.weekly_capacity, set(person.offers)) == (
        "ops",
        3,
        {"asp.net", "sql"},
    )
    assert await candidates.apply_profile("p", 4, PROFILE) is None  # older than the state
    assert await candidates.apply_offer("p", "go", 3, {**OFFER, "skill_id": "go"}) is None
    assert await candidates.apply_state("p", 5, _parts()) is None  # a repeat
    assert await candidates.apply_state("p", 4, _parts()) is None  # an older state
    newer = await candidates.apply_profile("p", 6, PROFILE)
    assert newer is not None and newer.team == "billing"
    again = await candidates.apply_state("p", 10, _parts("asp.net", team="ops"))
    assert again is not None and (again.team, set(again.offers)) == ("ops", {"asp.net"})


async def test_a_pause_is_kept_with_the_availability(candidates: CandidateRepository) -> None:
    part = {
        "weekly_capacity": 3,
        "time_zone": "UTC",
        "working_hours": None,
        "away_periods": [],
        "proposals_paused_until": "2026-12-20",
    }
    paused = await candidates.apply_availability("p", 1, part)
    assert paused is not None and paused.paused_until == date(2026, 12, 20)
    assert paused.is_away(date(2026, 12, 20)) and not paused.is_away(date(2026, 12, 21))
    resumed = await candidates.apply_availability("p", 2, {**part, "proposals_paused_until": None})
    assert resumed is not None and resumed.paused_until is None


async def test_concurrent_reservations_never_pass_capacity(candidates: CandidateRepository) -> None:
    await candidates.apply_offer("p", "asp.net", 1, OFFER)
    held = await asyncio.gather(*(candidates.reserve("p", _hold(f"x{i}"), NOW) for i in range(6)))
    assert sum(h is not None for h in held) == 1
    assert len((await candidates.get("p")).reservations) == 1  # type: ignore[union-attr]


async def test_reserving_one_proposal_twice_holds_it_once(candidates: CandidateRepository) -> None:
    await candidates.apply_offer("p", "asp.net", 1, {**OFFER, "weekly_capacity": 3})
    assert await candidates.reserve("p", _hold("x"), NOW) is not None
    again = await candidates.reserve("p", _hold("x"), NOW)
    assert again is not None and len(again.reservations) == 1


async def test_a_replica_that_lost_the_race_releases_only_its_own_hold(
    candidates: CandidateRepository,
) -> None:
    await candidates.apply_offer("p", "asp.net", 1, {**OFFER, "weekly_capacity": 3})
    winner = dataclasses.replace(_hold("x"), holder="winner")
    assert await candidates.reserve("p", winner, NOW) is not None
    # The loser proposed the same request at once: same proposal, found already held.
    loser = dataclasses.replace(_hold("x"), holder="loser")
    assert await candidates.reserve("p", loser, NOW) is not None
    kept = await candidates.release("p", "x", holder="loser")
    assert kept is not None and [r.holder for r in kept.reservations] == ["winner"]
    gone = await candidates.release("p", "x")  # a decline releases whoever made it
    assert gone is not None and gone.reservations == ()


async def test_release_session_and_rating_are_idempotent(candidates: CandidateRepository) -> None:
    await candidates.apply_offer("p", "asp.net", 1, OFFER)
    await candidates.reserve("p", _hold("x"), NOW)
    for _ in range(2):
        after = await candidates.hold_for_session(
            "p", proposal_id="x", request_id="r-x", skill_id="asp.net", learner_id="lea", now=NOW
        )
    assert after is not None
    assert ([r.kind for r in after.reservations], after.partners) == (["session"], ("lea",))
    for _ in range(2):
        rated = await candidates.record_rating("p", "s-1:teacher", 4)
    assert rated is not None and (rated.rating_sum, rated.rating_count) == (4, 1)
    for _ in range(2):
        released = await candidates.release("p", "x")
    assert released is not None and released.reservations == ()
    assert await candidates.reserve("nobody", _hold("y"), NOW) is None


async def test_erasure_leaves_a_tombstone_that_later_events_cannot_revive(
    candidates: CandidateRepository,
) -> None:
    await candidates.apply_offer("tom", "asp.net", 1, OFFER)
    await candidates.reserve("tom", _hold("x"), NOW)
    await candidates.hold_for_session(
        "tom", proposal_id="x", request_id="r-x", skill_id="asp.net", learner_id="gone", now=NOW
    )
    await candidates.apply_profile("gone", 1, PROFILE)
    await candidates.erase("gone", 5)
    assert await candidates.get("gone") is None
    assert await candidates.apply_profile("gone", 9, PROFILE) is None
    assert await candidates.get("gone") is None
    assert (await candidates.get("tom")).partners == ()  # type: ignore[union-attr]
    changes = {pid: c async for pid, c, _ in candidates.changed_since(None)}
    assert changes["gone"] is None and changes["tom"] is not None
