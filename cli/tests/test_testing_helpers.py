"""The helpers every suite waits and reads topics with."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiokafka import AIOKafkaProducer
from peerloop_cli.infra.kafka.admin import create
from peerloop_cli.infra.topics import TopicSpec
from peerloop_cli.testing.names import unique_name
from peerloop_cli.testing.topics import key_has, read_records
from peerloop_cli.testing.waiting import eventually


async def test_eventually_returns_the_first_truthy_value_of_a_plain_check() -> None:
    calls: list[int] = []

    def check() -> int | None:
        calls.append(1)
        return len(calls) if len(calls) >= 3 else None

    assert await eventually(check, 5, interval=0.01) == 3


async def test_eventually_awaits_an_async_check() -> None:
    ready = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, ready.set)

    async def check() -> str | None:
        return "done" if ready.is_set() else None

    assert await eventually(check, 5, interval=0.01) == "done"


async def test_eventually_fails_naming_what_and_the_last_value() -> None:
    with pytest.raises(AssertionError, match=re.escape("the door (last value 0)")):
        await eventually(lambda: 0, 0.05, interval=0.01, what="the door")


def test_unique_names_differ_and_keep_their_prefix() -> None:
    names = {unique_name("t_", 12) for _ in range(100)}
    assert len(names) == 100
    assert all(re.fullmatch(r"t_[0-9a-f]{12}", name) for name in names)


@pytest.mark.integration
async def test_read_records_reads_to_the_end_or_until_enough_matched(
    kafka_bootstrap: str,
) -> None:
    # Outside the public `peerloop.` namespace: an outside subscriber never sees it.
    topic = unique_name("peerloop-test.read-records.")
    await create(
        kafka_bootstrap,
        [TopicSpec(topic, partitions=2, replication_factor=1, retention_ms=3_600_000)],
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for index in range(6):
            key = f"{'mine' if index % 2 else 'other'}-{index}".encode()
            await producer.send_and_wait(topic, str(index).encode(), key=key)
    finally:
        await producer.stop()

    everything = await read_records(kafka_bootstrap, topic, within=30)
    assert sorted(int(r.value) for r in everything) == list(range(6))

    mine = await read_records(kafka_bootstrap, topic, match=key_has("mine"), want=3)
    assert sorted(r.key for r in mine) == [b"mine-1", b"mine-3", b"mine-5"]

    once = await read_records(
        kafka_bootstrap, topic, want=2, linger=0.5, distinct=lambda r: r.key.split(b"-")[0]
    )
    assert sorted(r.key.split(b"-")[0] for r in once) == [b"mine", b"other"]
