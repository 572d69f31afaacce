"""A private copy of Peerloop's topics for one test, with retention and compaction forced.

Tests of what the broker does over time (retention deleting change events, compaction
forgetting an erased person) cannot wait days, nor shrink the shared topics other tests
read. Instead the test moves every topic name under its own prefix (outside the public
`peerloop.` namespace: `topic_prefix`), creates that set here with tiny settings, and
deletes it afterwards. The services build their topic names when they start, from the
same prefix, so they run unchanged on the private set.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from peerloop_contracts import topics as contract_topics
from peerloop_contracts.catalogue import ALL_EVENTS
from peerloop_contracts.states import EntityState
from peerloop_contracts.topics import dlq_topic

from peerloop_cli.infra.kafka.admin import create_ready
from peerloop_cli.infra.topics import Compaction, TopicSpec

FAST_COMPACTION = Compaction(
    segment_ms=500, max_compaction_lag_ms=1_000, delete_retention_ms=1_000,
    min_cleanable_dirty_ratio=0.01,
)  # fmt: skip
"""Segments close within a second and the cleaner takes any dirty segment at once."""


def private_prefix(run_id: str) -> str:
    """The prefix of one test's private topic set: never in the public namespace."""
    return f"peerloop-test-{run_id}."


@contextlib.contextmanager
def topic_prefix(monkeypatch: pytest.MonkeyPatch, prefix: str) -> Iterator[str]:
    """Every `Event.topic()` answers `<prefix><event>.v<N>` until the test ends."""
    monkeypatch.setattr(contract_topics, "TOPIC_PREFIX", prefix)
    yield prefix


@dataclass(frozen=True)
class _Forced(TopicSpec):
    """A topic with settings topics.yaml never declares (a tiny segment time)."""

    forced: tuple[tuple[str, str], ...] = ()

    def configs(self) -> dict[str, str]:
        return {**super().configs(), **dict(self.forced)}


@contextlib.asynccontextmanager
async def private_topic_set(
    bootstrap: str,
    *,
    change_retention_ms: int,
    change_segment_ms: int,
    compaction: Compaction = FAST_COMPACTION,
    partitions: int = 2,
) -> AsyncIterator[list[TopicSpec]]:
    """Every event's topic (and `.dlq` twin) under the current prefix, deleted afterwards.

    Change-event topics delete records older than `change_retention_ms`, rolling their
    segments after `change_segment_ms`; the state topics are compacted as `compaction`.
    """
    specs: list[TopicSpec] = []
    for event in ALL_EVENTS:
        if issubclass(event, EntityState):
            specs.append(TopicSpec(event.topic(), partitions, 1, -1, compaction=compaction))
        else:
            specs.append(
                _Forced(
                    event.topic(),
                    partitions,
                    1,
                    change_retention_ms,
                    forced=(("segment.ms", str(change_segment_ms)),),
                )
            )
        specs.append(TopicSpec(dlq_topic(event.topic()), 1, 1, 3_600_000, dead_letter=True))
    await create_ready(bootstrap, specs)
    try:
        yield specs
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        finally:
            await admin.close()
