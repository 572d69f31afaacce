"""Publishing through Peerloop's own producer path, and reading one record back raw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from peerloop_runtime.kafka import make_broker
from peerloop_runtime.outbox import OutboxEntry


@dataclass(frozen=True)
class Placed:
    """Where a published record landed."""

    topic: str
    partition: int
    offset: int


Publish = Callable[[OutboxEntry], Awaitable[Placed]]


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[KafkaBroker]:
    broker = make_broker(kafka_bootstrap, client_id="test-interop")
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture
def publish(producer: KafkaBroker) -> Publish:
    """Publish an outbox entry exactly as the relay's `publish_entry` does, and say where."""

    async def _publish(entry: OutboxEntry) -> Placed:
        metadata = await producer.publish(
            entry.value.encode(),
            topic=entry.topic,
            key=entry.key.encode(),
            headers=dict(entry.headers),
        )
        return Placed(entry.topic, metadata.partition, metadata.offset)

    return _publish


@pytest.fixture
def read_record(kafka_bootstrap: str) -> Callable[[Placed], Awaitable[Any]]:
    async def _read(placed: Placed) -> Any:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = TopicPartition(placed.topic, placed.partition)
            consumer.assign([partition])
            consumer.seek(partition, placed.offset)
            return await asyncio.wait_for(consumer.getone(), timeout=60)
        finally:
            await consumer.stop()

    return _read
