"""Reading Peerloop's topics in tests, with a plain consumer outside any group."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Record = Any  # aiokafka's ConsumerRecord (the package has no type information)


def _any(_: Record) -> bool:
    return True


def key_has(text: str) -> Callable[[Record], bool]:
    """Records whose key contains `text` (tests tag their keys with a run id)."""
    return lambda record: bool(record.key) and text in record.key.decode()


async def read_records(
    bootstrap: str,
    topics: str | Sequence[str],
    *,
    match: Callable[[Record], bool] = _any,
    want: int | None = None,
    within: float = 30.0,
    linger: float = 0.0,
    distinct: Callable[[Record], Hashable] | None = None,
) -> list[Record]:
    """The records of `topics`, from their start, that `match`.

    want=None: read to the end the topics have now. want=N: read until N matched,
    then `linger` seconds more so that a duplicate would show up too. Either way
    at most `within` seconds; what was found by then is returned. `distinct` keeps
    the first record of each value it gives (a consumer deduping by `ce_id`).
    """
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Record] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        partitions = await _partitions(bootstrap, names, deadline)
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        settle: float | None = None
        while loop.time() < deadline:
            if want is None and await _at_ends(consumer, ends):
                break
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    if not match(record):
                        continue
                    if distinct is not None:
                        seen = distinct(record)
                        if any(distinct(earlier) == seen for earlier in found):
                            continue
                    found.append(record)
            if want is not None and len(found) >= want:
                settle = settle or loop.time() + linger
                if loop.time() >= settle:
                    break
    finally:
        await consumer.stop()
    return found


async def _at_ends(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True


async def _partitions(bootstrap: str, names: list[str], deadline: float) -> list[TopicPartition]:
    """Every partition of `names`, once the broker knows them all.

    A topic created a moment ago may not be known everywhere yet; a topic that never
    shows up is a mistake of the test, and said so.
    """
    loop = asyncio.get_running_loop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_topics(names)
            known = {t["topic"]: t["partitions"] for t in described if t["error_code"] == 0}
            missing = [name for name in names if not known.get(name)]
            if not missing:
                return [
                    TopicPartition(name, p["partition"])
                    for name in names
                    for p in sorted(known[name], key=lambda p: int(p["partition"]))
                ]
            if loop.time() > deadline:
                raise AssertionError(f"no such topic on the broker: {', '.join(missing)}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
