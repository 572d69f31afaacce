"""Proposal expiry survives a restart; a poison event is dead-lettered and the flow goes on."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from matching_harness import (
    candidates_known,
    eventually,
    person_events,
    publish,
    read_dlq,
    request_events,
    running,
    settings_for,
)
from peerloop_cli.identity import Tokens
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequested

pytestmark = pytest.mark.integration


async def test_an_unanswered_proposal_expires_after_a_restart_and_moves_on(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    skill = f"skill-{run_id}"
    learner, first, second = f"req-{run_id}", f"h1-{run_id}", f"h2-{run_id}"
    settings = settings_for(
        kafka_bootstrap,
        mongodb_uri,
        mongo_db_name,
        run_id,
        proposal_ttl_seconds=2.0,
        expiry_sweep_seconds=0.2,
    )
    async with running(settings) as (http, _service):
        await publish(
            kafka_bootstrap,
            [
                *person_events(learner, team="a"),
                *person_events(first, team="b", skill=skill),
                *person_events(second, team="a", skill=skill),
            ],
        )
        await candidates_known(
            mongodb_uri, mongo_db_name, [learner, first, second], [first, second]
        )
        created = await http.post(
            "/help-requests",
            auth=tokens.as_person(learner),
            json={"skill": skill, "desired_level": 2, "task": "t"},
        )
        rid = created.json()["request_id"]

        async def proposed() -> dict | None:
            body = (await http.get(f"/help-requests/{rid}", auth=tokens.as_person(learner))).json()
            return body if body["state"] == "proposed" else None

        assert (await eventually(proposed))["proposals"][0]["helper_id"] == first
    # Down while the proposal expires: no timer in memory survives this.
    await asyncio.sleep(2.5)
    async with running(settings) as (http, service):

        async def moved_on() -> dict | None:
            body = (await http.get(f"/help-requests/{rid}", auth=tokens.as_person(learner))).json()
            return body if len(body["proposals"]) == 2 else None

        body = await eventually(moved_on, timeout=15)
        assert [(p["helper_id"], p["status"]) for p in body["proposals"]] == [
            (first, "expired"),
            (second, "pending"),
        ]

        # Released right after the save that moved the request on (not inside it).
        async def released() -> bool:
            return (await service.candidates.get(first)).reservations == ()

        await eventually(released, timeout=10)

        async def gave_up() -> dict | None:
            body = (await http.get(f"/help-requests/{rid}", auth=tokens.as_person(learner))).json()
            return body if body["state"] == "unmatched" else None

        body = await eventually(gave_up, timeout=15)
        assert body["unmatched_reason"] == "all_declined"

    events = await request_events(kafka_bootstrap, rid, want=6)
    assert [(e.event_name, getattr(e, "will_retry", None)) for e, _ in events] == [
        ("help-requested", None),
        ("match-proposed", None),
        ("match-expired", True),
        ("match-proposed", None),
        ("match-expired", False),
        ("help-request-unmatched", None),
    ]
    assert [e.sequence for e, _ in events] == [1, 2, 3, 4, 5, 6]


async def test_a_poison_event_goes_to_the_dead_letter_topic_and_matching_goes_on(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    skill = f"skill-{run_id}"
    learner, helper = f"req-{run_id}", f"h-{run_id}"
    settings = settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id)
    async with running(settings) as (http, _service):
        poison_key = f"poison-{run_id}"
        meta = CloudEventMeta(
            source="peerloop/matching", type=HelpRequested.ce_type(), subject=poison_key
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                HelpRequested.topic(),
                b'{"request_id": "' + poison_key.encode() + b'", "desired_level": "lots"}',
                key=poison_key.encode(),
                headers=[(k, v.encode()) for k, v in meta.to_headers().items()],
            )
        finally:
            await producer.stop()
        [dead] = await read_dlq(kafka_bootstrap, f"{HelpRequested.topic()}.dlq", poison_key)
        headers = {k: v.decode() for k, v in dead.headers}
        assert headers["dlq_reason"].startswith("unparseable")
        assert headers["dlq_source_topic"] == HelpRequested.topic()
        assert headers["dlq_consumer_group"] == f"test-{run_id}.requests"
        assert headers["ce_id"] == meta.id

        # The partition moved on: a good request after the poison one is matched.
        await publish(
            kafka_bootstrap,
            [*person_events(learner, team="a"), *person_events(helper, team="b", skill=skill)],
        )
        await candidates_known(mongodb_uri, mongo_db_name, [learner, helper], [helper])
        created = await http.post(
            "/help-requests",
            auth=tokens.as_person(learner),
            json={"skill": skill, "desired_level": 2, "task": "t"},
        )
        rid = created.json()["request_id"]

        async def proposed() -> bool:
            return (await http.get(f"/help-requests/{rid}", auth=tokens.as_person(learner))).json()[
                "state"
            ] == "proposed"

        await eventually(proposed)


async def test_a_handler_that_keeps_failing_is_retried_a_few_times_then_dead_lettered(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str
) -> None:
    settings = settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id)
    request_id = f"r-broken-{run_id}"
    async with running(settings) as (_http, service):
        # A request document this version cannot read: every attempt fails the same way.
        await service.request_store.collection.insert_one(
            {"_id": request_id, "state": "requested", "sequence": 1}
        )
        event = HelpRequested(
            request_id=request_id,
            requester_id=f"q-{run_id}",
            skill_id="python",
            desired_level=2,
            task="t",
            sequence=1,
        )
        await publish(kafka_bootstrap, [event])
        [dead] = await read_dlq(kafka_bootstrap, f"{HelpRequested.topic()}.dlq", request_id)
        headers = {k: v.decode() for k, v in dead.headers}
        assert headers["dlq_reason"].startswith("handler failed")
        assert headers["dlq_attempts"] == "4"
        assert headers["ce_type"] == HelpRequested.ce_type()
