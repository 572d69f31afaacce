"""Waiting requests on the real store: found by skill in order, proposed once by racing replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from matching_harness import settings_for
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequested
from peerloop_contracts.profiles import ProfileRegistered, SkillOffered
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.bootstrap import MatchingService, bootstrap

pytestmark = pytest.mark.integration

META = CloudEventMeta(source="test", type="test", subject="test")
WAIT = 14 * 86_400


@pytest.fixture
async def replicas(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str
) -> AsyncIterator[list[MatchingService]]:
    """Two matching replicas on one store, each with its own index, as in a deployment."""
    services = [
        bootstrap(
            settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id, max_wait_seconds=WAIT)
        )
        for _ in range(2)
    ]
    await services[0].candidates.ensure_indexes()
    await services[0].request_store.ensure_indexes()
    yield services
    for service in services:
        await service.runtime.client.close()


async def _register(service: MatchingService, person_id: str) -> None:
    await service.projection.on_profile(
        ProfileRegistered(
            person_id=person_id,
            display_name=person_id,
            email=f"{person_id}@example.com",
            team=person_id,
            time_zone="UTC",
            sequence=1,
        ),
        META,
    )


async def _ask(service: MatchingService, requester: str, skill: str) -> str:
    request = await service.help_requests.create(NewHelpRequest(requester, skill, 2, "a task"))
    doc = await service.request_store.collection.find_one({"_id": request.request_id})
    event = HelpRequested.decode(doc["outbox"][0]["value"])  # type: ignore[index]
    await service.help_requests.on_help_requested(event, META)
    return request.request_id


async def _outbox_names(service: MatchingService, request_id: str) -> list[str]:
    """The change events queued for the request (its state records left out)."""
    doc = await service.request_store.collection.find_one({"_id": request_id})
    return [
        e["headers"]["ce_type"].split(".")[2]
        for e in doc["outbox"]  # type: ignore[index]
        if e["topic"] not in STATE_TOPICS
    ]


async def test_waiting_requests_are_found_by_skill_oldest_first(
    replicas: list[MatchingService], run_id: str
) -> None:
    service = replicas[0]
    skills = [f"a-{run_id}", f"b-{run_id}"]
    asked: list[tuple[str, str]] = []
    for n, skill in enumerate([skills[1], skills[0], skills[1], skills[0]]):
        await _register(service, f"q{n}-{run_id}")
        asked.append((skill, await _ask(service, f"q{n}-{run_id}", skill)))
    await service.help_requests.cancel(asked[2][1], f"q2-{run_id}")  # no longer waits
    store = service.request_store
    assert await store.waiting_for(skills) == [asked[1][1], asked[3][1], asked[0][1]]
    assert await store.waiting_for(skills, limit=1) == [asked[1][1]]
    assert await store.waiting_for([f"c-{run_id}"]) == []
    indexes = await service.request_store.collection.index_information()  # type: ignore[attr-defined]
    assert indexes["waiting"]["partialFilterExpression"] == {"state": "waiting"}


async def test_two_replicas_woken_by_one_offer_propose_the_request_once(
    replicas: list[MatchingService], run_id: str
) -> None:
    skill = f"s-{run_id}"
    requester, helper = f"q-{run_id}", f"h-{run_id}"
    await _register(replicas[0], requester)
    request_id = await _ask(replicas[0], requester, skill)
    assert (await replicas[0].help_requests.get(request_id)).state == "waiting"

    await _register(replicas[0], helper)
    offered = await replicas[0].candidates.apply_offer(
        helper,
        skill,
        2,
        {"skill_id": skill, "level": 4, "willing_to_teach": True, "weekly_capacity": 3},
    )
    assert offered is not None
    for service in replicas:
        service.sync.put(offered)
    woken = await asyncio.gather(*(s.help_requests.wake_for(offered) for s in replicas))
    assert sorted(woken) == [0, 1]
    request = await replicas[1].help_requests.get(request_id)
    assert [p.helper_id for p in request.proposals] == [helper]
    assert await _outbox_names(replicas[0], request_id) == [
        "help-requested",
        "help-request-waiting",
        "match-proposed",
    ]
    # The losing replica released what it reserved: one hold, the winner's.
    held = await replicas[0].candidates.get(helper)
    assert held is not None and [r.proposal_id for r in held.reservations] == [f"{request_id}.p1"]


async def test_a_skill_offered_event_wakes_the_waiting_request(
    replicas: list[MatchingService], run_id: str
) -> None:
    service = replicas[0]
    skill = f"s-{run_id}"
    await _register(service, f"q-{run_id}")
    request_id = await _ask(service, f"q-{run_id}", skill)
    await _register(service, f"h-{run_id}")
    await service.projection.on_skill_offered(
        SkillOffered(
            person_id=f"h-{run_id}",
            skill_id=skill,
            skill_name=skill,
            level=4,
            weekly_capacity=1,
            sequence=2,
        ),
        META,
    )
    request = await service.help_requests.get(request_id)
    assert (request.state, request.proposals[0].helper_id) == ("proposed", f"h-{run_id}")
