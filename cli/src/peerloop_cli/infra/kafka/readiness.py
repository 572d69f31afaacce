"""Ready means a record produced with acks=all was consumed back in a group."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaConsumer,
    AIOKafkaProducer,
)

from peerloop_cli.infra.component import problem_of
from peerloop_cli.infra.kafka.admin import create, quiet_aiokafka
from peerloop_cli.infra.topics import TopicSpec

# Outside the public `peerloop.` namespace: a subscriber to `peerloop\..*` reads only events
# (this topic carries no CloudEvents headers, and is the local broker's own business).
READINESS_TOPIC = "peerloop-local.readiness"
READINESS_GROUP = "peerloop-local.readiness"


def round_trip_problem(bootstrap: str, within_s: float) -> str | None:
    """None when a round trip went through within `within_s` (at most 20 s); else why not."""
    with quiet_aiokafka():
        try:
            asyncio.run(asyncio.wait_for(round_trip(bootstrap), timeout=min(within_s, 20)))
        except Exception as exc:  # any failure means "not yet"
            return problem_of(exc)
    return None


async def round_trip(bootstrap: str) -> None:
    """Create the readiness topic if needed, produce (acks=all), consume it in a group."""
    await create(
        bootstrap,
        [TopicSpec(READINESS_TOPIC, partitions=1, replication_factor=1, retention_ms=3_600_000)],
    )
    token = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        request_timeout_ms=10_000,
        client_id="peerloop-ready",
    )
    await producer.start()
    try:
        await producer.send_and_wait(READINESS_TOPIC, token, key=b"readiness")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        READINESS_TOPIC,
        bootstrap_servers=bootstrap,
        group_id=READINESS_GROUP,
        client_id="peerloop-ready",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            batches: dict[Any, list[Any]] = await consumer.getmany(timeout_ms=1000)
            if any(record.value == token for records in batches.values() for record in records):
                await consumer.commit()
                return
    finally:
        await consumer.stop()
