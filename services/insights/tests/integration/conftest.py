"""Real Kafka and store around the insights service: publishing a generated history,
consumer groups that start where the test began, and the service in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asgi_lifespan import LifespanManager
from peerloop_cli.identity import IdentityProvider
from peerloop_cli.realm import AUDIENCE
from peerloop_insights.bootstrap import InsightsService
from peerloop_insights.config import Settings
from peerloop_insights.devtools.history import Item
from peerloop_insights.domain.changes import CONSUMED_EVENTS
from peerloop_insights.entrypoints.http import create_app
from peerloop_runtime.auth import AuthSettings

pytestmark = pytest.mark.integration


async def topic_ends(bootstrap: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted({e.topic() for e in CONSUMED_EVENTS}))
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def start_group_at(bootstrap: str, group_id: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def publish(bootstrap: str, items: Sequence[Item]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        for event, meta in items:
            headers = [(k, v.encode()) for k, v in meta.to_headers().items()]
            await producer.send(
                event.topic(), event.to_json(), key=event.subject.encode(), headers=headers
            )
        await producer.flush()
    finally:
        await producer.stop()


@pytest.fixture
def insights_settings(
    kafka_bootstrap: str, mongodb_uri: str, identity: IdentityProvider
) -> Callable[..., Settings]:
    def build(database: str, group: str, **overrides: Any) -> Settings:
        return Settings(
            kafka_bootstrap_servers=kafka_bootstrap,
            mongodb_uri=mongodb_uri,
            database=database,
            consumer_group=group,
            shutdown_grace_seconds=10.0,
            refresh_seconds=0.2,
            auth=AuthSettings(issuer=identity.issuer, audience=AUDIENCE),
            **overrides,
        )

    return build


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[InsightsService]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        yield app.state.service


Run = Callable[[Settings], Awaitable[InsightsService]]
