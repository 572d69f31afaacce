"""Start new consumer groups at the end of Peerloop's topics.

A new group reads every topic from the beginning (`auto_offset_reset=earliest`,
as services must, so no event published before they join is missed). In a test
session on a long-lived broker that means replaying the whole history before a
test's own events arrive. Tests and e2e deployments commit the current ends for
their fresh groups first; groups that already committed keep their offsets.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from peerloop_contracts.catalogue import BY_TOPIC


async def start_groups_at_end(bootstrap: str, groups: Iterable[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(BY_TOPIC))
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    for group in groups:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            fresh = {tp: ends[tp] for tp in partitions if await consumer.committed(tp) is None}
            if fresh:
                await consumer.commit(fresh)
        finally:
            await consumer.stop()
