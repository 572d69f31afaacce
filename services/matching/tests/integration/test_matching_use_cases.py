"""Matching use cases on the real store: capacity, idempotency, unmatched reasons."""

from __future__ import annotations

import asyncio

import pytest
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequested
from peerloop_contracts.profiles import ProfileErased, ProfileRegistered, SkillOffered
from peerloop_contracts.states import HelpRequestState
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.bootstrap import MatchingService
from peerloop_matching.domain.errors import UnknownPersonError

pytestmark = pytest.mark.integration

META = CloudEventMeta(source="test", type="test", subject="test")


async def _people(service: MatchingService, skill: str, *helpers: tuple[str, int]) -> None:
    for pid, capacity in helpers:
        await service.projection.on_profile(
            ProfileRegistered(
                person_id=pid,
                display_name=pid,
                email=f"{pid}@example.com",
                team=pid,
                time_zone="UTC",
                sequence=1,
            ),
            META,
        )
        if capacity >= 0:
            await service.projection.on_skill_offered(
                SkillOffered(
                    person_id=pid,
                    skill_id=skill,
                    skill_name=skill,
                    level=4,
                    weekly_capacity=capacity,
                    sequence=2,
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
    """The change events queued for a request, without its state records."""
    doc = await service.request_store.collection.find_one({"_id": request_id})
    return [
        e["headers"]["ce_type"].split(".")[2]
        for e in doc["outbox"]  # type: ignore[index]
        if e["topic"] != HelpRequestState.topic()
    ]


async def _states(service: MatchingService, request_id: str) -> list[str | None]:
    doc = await service.request_store.collection.find_one({"_id": request_id})
    return [
        e["value"]
        for e in doc["outbox"]  # type: ignore[index]
        if e["topic"] == HelpRequestState.topic()
    ]


async def test_a_redelivered_help_requested_changes_nothing_and_publishes_nothing_twice(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    await _people(offline_service, skill, (f"q-{run_id}", -1), (f"h-{run_id}", 2))
    request_id = await _ask(offline_service, f"q-{run_id}", skill)
    doc = await offline_service.request_store.collection.find_one({"_id": request_id})
    event = HelpRequested.decode(doc["outbox"][0]["value"])  # type: ignore[index]
    for _ in range(2):
        await offline_service.help_requests.on_help_requested(event, META)
    assert await _outbox_names(offline_service, request_id) == ["help-requested", "match-proposed"]
    helper = await offline_service.candidates.get(f"h-{run_id}")
    assert len(helper.reservations) == 1  # type: ignore[union-attr]


async def test_capacity_is_reserved_while_pending_and_released_on_decline(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    helper = f"h-{run_id}"
    asking = [f"q{i}-{run_id}" for i in range(3)]
    await _people(offline_service, skill, *((q, -1) for q in asking), (helper, 1))
    use_cases = offline_service.help_requests

    first = await _ask(offline_service, asking[0], skill)
    assert (await use_cases.get(first)).proposals[0].helper_id == helper
    # The only helper's one slot this week is held by the pending proposal.
    second = await _ask(offline_service, asking[1], skill)
    blocked = await use_cases.get(second)
    assert (blocked.state, blocked.unmatched_reason) == ("unmatched", "all_at_capacity")

    declined = await use_cases.decline(first, f"{first}.p1", helper)
    assert (declined.state, declined.unmatched_reason) == ("unmatched", "all_declined")
    assert await _outbox_names(offline_service, first) == [
        "help-requested",
        "match-proposed",
        "match-declined",
        "help-request-unmatched",
    ]
    # Released: the next request gets the helper.
    third = await _ask(offline_service, asking[2], skill)
    assert (await use_cases.get(third)).proposals[0].helper_id == helper


async def test_accepted_sessions_count_against_capacity_until_not_happened(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    helper = f"h-{run_id}"
    asking = [f"q{i}-{run_id}" for i in range(3)]
    await _people(offline_service, skill, *((q, -1) for q in asking), (helper, 1))
    use_cases = offline_service.help_requests
    first = await _ask(offline_service, asking[0], skill)
    await use_cases.accept(first, f"{first}.p1", helper)
    kinds = [r.kind for r in (await offline_service.candidates.get(helper)).reservations]  # type: ignore[union-attr]
    assert kinds == ["session"]
    assert (await use_cases.get(await _ask(offline_service, asking[1], skill))).state == "unmatched"
    await use_cases.report_not_happened(first, helper)
    assert (await use_cases.get(await _ask(offline_service, asking[2], skill))).state == "proposed"


async def test_unmatched_when_no_one_offers_the_skill(
    offline_service: MatchingService, run_id: str
) -> None:
    await _people(offline_service, f"skill-{run_id}", (f"q-{run_id}", -1))
    request = await offline_service.help_requests.get(
        await _ask(offline_service, f"q-{run_id}", f"nothing-{run_id}")
    )
    assert (request.state, request.unmatched_reason) == ("unmatched", "no_one_offers")


async def test_an_ask_waits_for_the_profile_of_a_requester_who_just_registered(
    offline_service: MatchingService, run_id: str
) -> None:
    """Read-model lag is matching's business, not a refusal of the person asking."""
    requester = f"new-{run_id}"
    ask = asyncio.create_task(
        offline_service.help_requests.create(NewHelpRequest(requester, "python", 2, "a task"))
    )
    await asyncio.sleep(0.5)
    assert not ask.done()
    await _people(offline_service, "python", (requester, -1))
    request = await asyncio.wait_for(ask, timeout=10)
    assert request.requester_id == requester


async def test_a_requester_matching_never_heard_of_is_told_to_retry(
    offline_service: MatchingService, run_id: str
) -> None:
    with pytest.raises(UnknownPersonError, match="has not received the profile"):
        await offline_service.help_requests.create(
            NewHelpRequest(f"nobody-{run_id}", "python", 2, "a task")
        )


async def test_aliases_resolve_to_the_canonical_skill(
    offline_service: MatchingService, run_id: str
) -> None:
    await _people(offline_service, "kubernetes", (f"q-{run_id}", -1))
    request = await offline_service.help_requests.create(
        NewHelpRequest(f"q-{run_id}", "K8s", 2, "a task")
    )
    assert request.skill_id == "kubernetes"


async def test_concurrent_requests_never_take_a_helper_past_capacity(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    helper = f"h-{run_id}"
    asking = [f"q{i}-{run_id}" for i in range(5)]
    await _people(offline_service, skill, *((q, -1) for q in asking), (helper, 2))
    use_cases = offline_service.help_requests
    created = [await use_cases.create(NewHelpRequest(q, skill, 2, "a task")) for q in asking]
    events = []
    for request in created:
        doc = await offline_service.request_store.collection.find_one({"_id": request.request_id})
        events.append(HelpRequested.decode(doc["outbox"][0]["value"]))  # type: ignore[index]
    await asyncio.gather(*(use_cases.on_help_requested(e, META) for e in events))
    states = [(await use_cases.get(r.request_id)).state for r in created]
    assert sorted(states) == ["proposed", "proposed", "unmatched", "unmatched", "unmatched"]
    held = (await offline_service.candidates.get(helper)).reservations  # type: ignore[union-attr]
    assert len(held) == 2


async def test_a_helper_another_replica_filled_up_is_skipped_even_before_the_index_knows(
    offline_service: MatchingService, run_id: str
) -> None:
    from datetime import timedelta

    from peerloop_contracts.envelope import utc_now
    from peerloop_matching.domain.candidate import Reservation, iso_week

    skill = f"skill-{run_id}"
    best, other = f"a-{run_id}", f"b-{run_id}"
    await _people(offline_service, skill, (f"q-{run_id}", -1), (best, 1), (other, 1))
    now = utc_now()
    # Another replica reserved `best`'s only slot; this replica's index has not seen it yet.
    elsewhere = Reservation(
        proposal_id="elsewhere.p1",
        request_id="elsewhere",
        skill_id=skill,
        week=iso_week(now),
        kind="pending",
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    assert await offline_service.candidates.reserve(best, elsewhere, now) is not None
    assert offline_service.index.get(best).reservations == ()  # type: ignore[union-attr]
    request_id = await _ask(offline_service, f"q-{run_id}", skill)
    assert (await offline_service.help_requests.get(request_id)).proposals[0].helper_id == other
    assert len(offline_service.index.get(best).reservations) == 1  # type: ignore[union-attr]


async def test_cancelling_a_proposed_request_releases_the_helper(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    requester, helper = f"q-{run_id}", f"h-{run_id}"
    await _people(offline_service, skill, (requester, -1), (helper, 1))
    request_id = await _ask(offline_service, requester, skill)
    assert len((await offline_service.candidates.get(helper)).reservations) == 1  # type: ignore[union-attr]
    cancelled = await offline_service.help_requests.cancel(request_id, requester, reason="solved")
    assert (cancelled.state, cancelled.proposals[0].status) == ("cancelled", "cancelled")
    assert (await offline_service.candidates.get(helper)).reservations == ()  # type: ignore[union-attr]
    assert await _outbox_names(offline_service, request_id) == [
        "help-requested",
        "match-proposed",
        "help-request-cancelled",
    ]


async def test_losing_a_save_race_releases_the_reservation_it_made(
    offline_service: MatchingService, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    skill = f"skill-{run_id}"
    requester, helper = f"q-{run_id}", f"h-{run_id}"
    await _people(offline_service, skill, (requester, -1), (helper, 1))
    store = offline_service.request_store
    real_save = store.save
    held_at_save: list[int] = []

    async def cancelled_meanwhile(request, events):  # type: ignore[no-untyped-def]
        # The requester cancels between our load and our save.
        await store.collection.update_one(
            {"_id": request.request_id}, {"$set": {"state": "cancelled"}, "$inc": {"version": 1}}
        )
        helper_now = await offline_service.candidates.get(helper)
        held_at_save.append(len(helper_now.reservations))  # type: ignore[union-attr]
        return await real_save(request, events)

    monkeypatch.setattr(store, "save", cancelled_meanwhile)
    request_id = await _ask(offline_service, requester, skill)
    assert held_at_save == [1]  # the helper was reserved for the proposal being saved…
    request = await offline_service.help_requests.get(request_id)
    assert (request.state, request.proposals) == ("cancelled", [])
    # …and released when the save lost, so the helper is free for others.
    assert (await offline_service.candidates.get(helper)).reservations == ()  # type: ignore[union-attr]


async def test_each_save_queues_the_state_after_its_events_and_erasure_tombstones_or_redacts(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    gone, lea, tom = f"gone-{run_id}", f"lea-{run_id}", f"tom-{run_id}"
    await _people(offline_service, skill, (gone, 2), (lea, -1), (tom, -1))
    asked = await _ask(offline_service, gone, skill)  # nobody else offers: unmatched
    helped = await _ask(offline_service, lea, skill)  # gone is proposed
    doc = await offline_service.request_store.collection.find_one({"_id": helped})
    assert [e["topic"].split(".")[1] for e in doc["outbox"]] == [  # type: ignore[index]
        "help-requested",
        "help-request-state",
        "match-proposed",
        "help-request-state",
    ]
    proposed = HelpRequestState.decode(doc["outbox"][-1]["value"])  # type: ignore[index]
    assert (proposed.status, proposed.sequence, proposed.proposals[0].helper_id) == (
        "proposed",
        2,
        gone,
    )

    await offline_service.projection.on_profile_erased(
        ProfileErased(person_id=gone, sequence=9), META
    )

    # Their own request: a stub holding only the tombstone, which `load` never returns.
    stub = await offline_service.request_store.collection.find_one({"_id": asked})
    assert stub is not None
    assert set(stub) == {"_id", "erased", "updated_at", "outbox"}
    [tombstone] = stub["outbox"]
    assert (tombstone["topic"], tombstone["key"], tombstone["value"]) == (
        HelpRequestState.topic(),
        asked,
        None,
    )
    assert await offline_service.request_store.load(asked) is None
    # The request they were proposed for: its redacted state, under a newer sequence.
    redacted = HelpRequestState.decode((await _states(offline_service, helped))[-1] or "")
    assert redacted.sequence == 3
    assert [p.helper_id for p in redacted.proposals] == ["erased"]
    assert gone not in redacted.model_dump_json()


async def test_the_tasks_a_helper_taught_come_from_completed_sessions_latest_first(
    offline_service: MatchingService, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    helper, other = f"h-{run_id}", f"o-{run_id}"
    asking = [f"q{i}-{run_id}" for i in range(3)]
    await _people(offline_service, skill, *((q, -1) for q in asking), (helper, 5), (other, -1))
    use_cases = offline_service.help_requests
    taught = []
    for n, learner in enumerate(asking):
        request = await use_cases.create(NewHelpRequest(learner, skill, 2, f"task {n}"))
        doc = await offline_service.request_store.collection.find_one({"_id": request.request_id})
        event = HelpRequested.decode(doc["outbox"][0]["value"])  # type: ignore[index]
        await use_cases.on_help_requested(event, META)
        proposal = (await use_cases.get(request.request_id)).proposals[0]
        await use_cases.accept(request.request_id, proposal.proposal_id, helper)
        if n < 2:  # the last one is accepted, not yet completed
            for who in (learner, helper):
                await use_cases.confirm(request.request_id, who, minutes=30)
            taught.append(request.request_id)
        await asyncio.sleep(0.01)  # distinct creation times
    store = offline_service.request_store
    assert [(t.request_id, t.task) for t in await store.tasks_taught([helper, other], 3)] == [
        (taught[1], "task 1"),
        (taught[0], "task 0"),
    ]
    assert [t.task for t in await store.tasks_taught([helper], 1)] == ["task 1"]
    assert await store.tasks_taught([other], 3) == []
