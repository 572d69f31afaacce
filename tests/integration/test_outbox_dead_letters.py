"""An outbox entry the broker refuses for good, on the real broker: dead-lettered, not a wedge.

The local broker keeps Kafka's default `message.max.bytes` (1 MiB; see
`peerloop_cli.infra.kafka.server_properties`), so a 1.5 MiB record is too large for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from peerloop_contracts.profiles import ProfileErased, SkillOffered
from peerloop_contracts.topics import dlq_topic
from peerloop_runtime.kafka import make_broker, publish_entry
from peerloop_runtime.outbox import OutboxEntry, outbox_entry
from peerloop_runtime.outbox_relay import OutboxRelay
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

BROKER_LIMIT = 1024 * 1024
"""Kafka's default `message.max.bytes`, which the local broker keeps."""


def _oversized_offer(person: str, size: int) -> OutboxEntry:
    """A real SkillOffered whose JSON a bug made larger than the broker takes."""
    entry = outbox_entry(
        SkillOffered(
            person_id=person,
            skill_id="python",
            skill_name="Python",
            level=3,
            weekly_capacity=1,
            sequence=1,
        )
    )
    body = json.loads(entry.value)
    body["padding"] = "x" * size
    return entry.model_copy(update={"value": json.dumps(body)})


async def _records(
    bootstrap: str, topic: str, key: str, want: int
) -> list[ConsumerRecord[Any, Any]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[ConsumerRecord[Any, Any]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline and len(found) < want:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found += [r for r in batch if r.key is not None and r.key.decode() == key]
    finally:
        await consumer.stop()
    return found


def _dead_lettered(service: str, topic: str) -> float:
    value = REGISTRY.get_sample_value(
        "peerloop_outbox_dead_lettered_total",
        {"service": service, "topic": topic, "reason": "too_large"},
    )
    return value or 0.0


@pytest.fixture
async def people(mongodb_uri: str, mongo_db_name: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client[mongo_db_name].people
    await client.close()


async def _relay_oversized_then_erasure(
    broker: KafkaBroker, people: Any, bootstrap: str, person: str, service: str, size: int
) -> None:
    oversized = _oversized_offer(person, size)
    erased = outbox_entry(ProfileErased(person_id=person, sequence=2))
    assert len(oversized.value.encode()) > BROKER_LIMIT
    await people.insert_one(
        {"_id": person, "outbox": [oversized.to_document(), erased.to_document()]}
    )
    relay = OutboxRelay([people], publish=lambda e: publish_entry(broker, e), service=service)
    before = _dead_lettered(service, oversized.topic)

    assert await relay.drain() == 2  # both settled: nothing left to hold the person back
    assert relay.dead_lettered == 1
    assert (await people.find_one({"_id": person}))["outbox"] == []
    assert _dead_lettered(service, oversized.topic) == before + 1

    [dead] = await _records(bootstrap, dlq_topic(oversized.topic), person, 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq_reason"].startswith("refused by the broker: too_large")
    assert headers["dlq_error_type"] == "MessageSizeTooLargeError"
    assert headers["dlq_payload"] == "omitted"
    assert headers["dlq_source_topic"] == oversized.topic
    assert headers["ce_id"] == oversized.id
    envelope = json.loads(dead.value)
    assert envelope["id"] == oversized.id
    assert envelope["type"] == "io.peerloop.skill-offered.v1"
    assert envelope["subject"] == person
    assert envelope["size_bytes"] == len(oversized.value.encode())
    assert envelope["reason"] == "too_large"
    assert len(dead.value) < 2048

    # The erasure behind it was published: the person's later events flow on.
    [published] = await _records(bootstrap, erased.topic, person, 1)
    assert dict(published.headers)["ce_id"].decode() == erased.id


async def test_a_record_too_large_is_dead_lettered_and_later_events_flow(
    kafka_bootstrap: str, people: Any, run_id: str
) -> None:
    """The producer's own limit (aiokafka `max_request_size`, 1 MiB) refuses it first."""
    broker = make_broker(kafka_bootstrap, client_id="test-outbox-dlq")
    await broker.start()
    try:
        await _relay_oversized_then_erasure(
            broker, people, kafka_bootstrap, f"p-{run_id}", "dlq-client", 3 * BROKER_LIMIT // 2
        )
    finally:
        await broker.stop()


async def test_a_record_the_broker_itself_refuses_is_dead_lettered(
    kafka_bootstrap: str, people: Any, run_id: str
) -> None:
    """A producer allowed larger requests than the broker: the broker's MESSAGE_TOO_LARGE."""
    broker = make_broker(
        kafka_bootstrap, client_id="test-outbox-dlq-broker", max_request_size=4 * BROKER_LIMIT
    )
    await broker.start()
    try:
        await _relay_oversized_then_erasure(
            broker, people, kafka_bootstrap, f"p-{run_id}", "dlq-broker", 3 * BROKER_LIMIT // 2
        )
        # The same producer still publishes on the partition that refused the record.
        again = outbox_entry(
            SkillOffered(
                person_id=f"p-{run_id}",
                skill_id="go",
                skill_name="Go",
                level=2,
                weekly_capacity=1,
                sequence=3,
            )
        )
        assert await asyncio.wait_for(publish_entry(broker, again), 30) is None
        [record] = await _records(kafka_bootstrap, again.topic, f"p-{run_id}", 1)
        assert dict(record.headers)["ce_id"].decode() == again.id
    finally:
        await broker.stop()
