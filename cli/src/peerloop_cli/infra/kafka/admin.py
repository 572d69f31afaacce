"""Topics on a running broker: create what `deploy/topics.yaml` declares, wait for leaders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaConsumer,
    TopicPartition,
)
from aiokafka.admin import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaAdminClient,
    NewTopic,
)

from peerloop_cli.infra.process import InfraError
from peerloop_cli.infra.topics import TopicSpec, load_topics

_TOPIC_ALREADY_EXISTS = 36


@contextlib.contextmanager
def quiet_aiokafka() -> Iterator[None]:
    """While a broker boots or elects leaders, aiokafka logs every refused connection
    and every "coordinator not available" at WARNING/ERROR; those are expected then."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


@dataclass(frozen=True)
class TopicsResult:
    created: list[str]
    existing: list[str]
    # Existing topics whose partition count differs from the declaration
    # (Kafka can only add partitions; deleting and re-creating is up to the user).
    partition_mismatch: dict[str, tuple[int, int]]  # name -> (declared, actual)


def create_topics(bootstrap: str, topics_yaml_path: Path) -> TopicsResult:
    """Create every topic of topics.yaml and its dead-letter twin; existing ones are fine."""
    return asyncio.run(create_topics_async(bootstrap, topics_yaml_path))


async def create_topics_async(bootstrap: str, topics_yaml_path: Path) -> TopicsResult:
    specs = load_topics(topics_yaml_path)
    created = await create_ready(bootstrap, specs)
    existing = [spec.name for spec in specs if spec.name not in created]
    mismatch: dict[str, tuple[int, int]] = {}
    if existing:
        actual = await _partition_counts(bootstrap, existing)
        declared = {spec.name: spec.partitions for spec in specs}
        mismatch = {
            name: (declared[name], actual[name])
            for name in existing
            if name in actual and actual[name] != declared[name]
        }
    return TopicsResult(created=created, existing=existing, partition_mismatch=mismatch)


async def create_ready(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """`create`, then wait until every partition has a leader; returns the new names."""
    created = await create(bootstrap, specs)
    # The controller answers CreateTopics before the broker has become leader of the
    # new partitions; producing right away gets NOT_LEADER errors for a second or so.
    # Return only once every partition answers a ListOffsets request.
    with quiet_aiokafka():
        await _await_leaders(bootstrap, specs)
    return created


async def create(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """Create the topics in one request; returns the names that were new."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="peerloop-admin", request_timeout_ms=30_000
    )
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=spec.configs(),
                )
                for spec in specs
            ],
            timeout_ms=30_000,
        )
    finally:
        await admin.close()
    created: list[str] = []
    failures: list[str] = []
    for error in response.topic_errors:
        name, code = error[0], error[1]
        message = error[2] if len(error) > 2 else None
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:
            failures.append(f"{name}: error {code} {message or ''}".rstrip())
    if failures:
        raise InfraError(f"could not create Kafka topics on {bootstrap}:\n" + "\n".join(failures))
    return created


async def _await_leaders(bootstrap: str, specs: list[TopicSpec], within_s: float = 30.0) -> None:
    partitions = [
        TopicPartition(spec.name, index) for spec in specs for index in range(spec.partitions)
    ]
    # Subscribing (no group) loads the metadata of all topics at once; without it
    # aiokafka learns one unknown topic per 100 ms metadata refresh.
    consumer = AIOKafkaConsumer(
        *(spec.name for spec in specs),
        bootstrap_servers=bootstrap,
        client_id="peerloop-admin",
        enable_auto_commit=False,
        request_timeout_ms=int(within_s * 1000),
    )
    await consumer.start()
    try:
        await consumer.end_offsets(partitions)
    except Exception as exc:
        raise InfraError(
            f"topics were created on {bootstrap} but not all partitions got a leader "
            f"within {within_s:.0f}s ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        await consumer.stop()


async def _partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="peerloop-admin")
    await admin.start()
    try:
        described: list[dict[str, Any]] = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in described
        if topic.get("error_code", 0) == 0
    }
