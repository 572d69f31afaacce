"""Contracts over the real broker: FastStream publish/subscribe, plain aiokafka, dead letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_cli.testing.topics import key_has, read_records
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillOffered
from peerloop_contracts.states import OrganisationSkillDefined
from peerloop_runtime.kafka import (
    DeadLetter,
    EventConsumer,
    RetryPolicy,
    make_broker,
    publish_entry,
)
from peerloop_runtime.outbox import outbox_entry
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration


def _offer(person_id: str, sequence: int = 1) -> SkillOffered:
    return SkillOffered(
        person_id=person_id,
        skill_id="mongodb",
        skill_name="MongoDB",
        level=4,
        description="aggregation pipelines",
        weekly_capacity=2,
        sequence=sequence,
    )


@pytest.fixture
async def broker(kafka_bootstrap: str, run_id: str) -> AsyncIterator[Any]:
    # The test's group starts at the topics' ends: the broker's history is not its business.
    await start_groups_at_end(kafka_bootstrap, [f"test-{run_id}"])
    broker = make_broker(kafka_bootstrap, client_id="test-contracts")
    yield broker
    await broker.stop()


async def test_event_published_with_faststream_arrives_with_cloudevents_headers(
    broker: Any, run_id: str
) -> None:
    received: list[tuple[SkillOffered, CloudEventMeta]] = []
    done = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id in event.person_id:
            received.append((event, meta))
            done.set()

    EventConsumer(broker, group_id=f"test-{run_id}", handlers={SkillOffered: handle})
    await broker.start()
    entry = outbox_entry(
        _offer(f"p-{run_id}"), traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    )
    await publish_entry(broker, entry)
    await asyncio.wait_for(done.wait(), timeout=90)

    event, meta = received[0]
    assert event == _offer(f"p-{run_id}")
    assert meta.id == entry.id
    assert meta.type == "io.peerloop.skill-offered.v1"
    assert meta.source == "peerloop/profiles"
    assert meta.subject == f"p-{run_id}"
    assert meta.datacontenttype == "application/json"
    assert meta.traceparent == entry.headers["traceparent"]
    consumed = REGISTRY.get_sample_value(
        "peerloop_events_consumed_total",
        {"service": f"test-{run_id}", "topic": "peerloop.skill-offered.v1"},
    )
    assert consumed is not None and consumed >= 1


async def test_plain_aiokafka_consumer_reads_the_same_event(
    broker: Any, kafka_bootstrap: str, run_id: str
) -> None:
    await broker.start()
    entry = outbox_entry(_offer(f"p-{run_id}"))
    await publish_entry(broker, entry)

    [record] = await read_records(
        kafka_bootstrap, "peerloop.skill-offered.v1", match=key_has(run_id), want=1, within=90
    )
    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == f"p-{run_id}".encode()
    for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"):
        assert headers[name] == entry.headers[name]
    assert headers["content-type"] == "application/json"
    assert json.loads(record.value)["skill_id"] == "mongodb"


async def test_poison_message_goes_to_dead_letter_and_partition_moves_on(
    broker: Any, kafka_bootstrap: str, run_id: str
) -> None:
    handled: list[str] = []
    good_seen = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id not in event.person_id:
            return  # history of the shared topic
        handled.append(event.person_id)
        if event.person_id == f"good-{run_id}":
            good_seen.set()

    EventConsumer(broker, group_id=f"test-{run_id}", handlers={SkillOffered: handle})
    await broker.start()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        good_headers = outbox_entry(_offer(f"good-{run_id}")).headers
        # Same key -> same partition: the good record is behind the poison ones.
        key = f"poison-{run_id}".encode()
        await producer.send_and_wait(
            "peerloop.skill-offered.v1",
            b"{not json",
            key=key,
            headers=[(k, v.encode()) for k, v in good_headers.items()],
        )
        await producer.send_and_wait(
            "peerloop.skill-offered.v1", b'{"person_id": "x"}', key=key, headers=[]
        )
        good = outbox_entry(_offer(f"good-{run_id}"))
        await producer.send_and_wait(
            good.topic,
            good.value.encode(),
            key=key,
            headers=[(k, v.encode()) for k, v in good.headers.items()],
        )
    finally:
        await producer.stop()

    await asyncio.wait_for(good_seen.wait(), timeout=90)
    dead = [
        r
        for r in await read_records(
            kafka_bootstrap,
            "peerloop.skill-offered.v1.dlq",
            match=key_has(run_id),
            want=2,
            within=90,
        )
        # Other groups consuming the topic at the same time dead-letter these records too.
        if dict(r.headers)["dlq_consumer_group"] == f"test-{run_id}".encode()
    ]
    reasons = [dict((k, v.decode()) for k, v in r.headers)["dlq_reason"] for r in dead]
    assert any("unparseable" in r and "json" in r.lower() for r in reasons), reasons
    assert any("missing CloudEvents header" in r for r in reasons), reasons
    first = dict((k, v.decode()) for k, v in dead[0].headers)
    assert first["dlq_source_topic"] == "peerloop.skill-offered.v1"
    assert first["dlq_consumer_group"] == f"test-{run_id}"
    assert int(first["dlq_source_offset"]) >= 0
    assert dead[0].value == b"{not json"
    assert handled == [f"good-{run_id}"]
    dead_count = REGISTRY.get_sample_value(
        "peerloop_dead_letters_total",
        {"service": f"test-{run_id}", "topic": "peerloop.skill-offered.v1"},
    )
    assert dead_count is not None and dead_count >= 2


async def test_failing_handler_is_retried_then_dead_lettered_with_attempts(
    broker: Any, kafka_bootstrap: str, run_id: str
) -> None:
    calls: dict[str, int] = {}
    flaky_done = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id not in event.person_id:
            return
        calls[event.person_id] = calls.get(event.person_id, 0) + 1
        if event.person_id.startswith("flaky") and calls[event.person_id] < 3:
            raise RuntimeError("temporary hiccup")
        if event.person_id.startswith("broken"):
            raise RuntimeError("always fails")
        if event.person_id.startswith("refused"):
            raise DeadLetter("person is erased")
        flaky_done.set()

    EventConsumer(
        broker,
        group_id=f"test-{run_id}",
        handlers={SkillOffered: handle},
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
    )
    await broker.start()
    for person in (f"broken-{run_id}", f"refused-{run_id}", f"flaky-{run_id}"):
        await publish_entry(broker, outbox_entry(_offer(person)))
    await asyncio.wait_for(flaky_done.wait(), timeout=90)

    dead = await read_records(
        kafka_bootstrap, "peerloop.skill-offered.v1.dlq", match=key_has(run_id), want=2, within=90
    )
    by_key = {r.key.decode(): dict((k, v.decode()) for k, v in r.headers) for r in dead}
    assert by_key[f"broken-{run_id}"]["dlq_attempts"] == "3"
    assert "always fails" in by_key[f"broken-{run_id}"]["dlq_reason"]
    assert by_key[f"refused-{run_id}"]["dlq_reason"] == "rejected: person is erased"
    assert calls == {f"broken-{run_id}": 3, f"refused-{run_id}": 1, f"flaky-{run_id}": 3}


async def test_an_impostor_goes_to_dead_letter_and_the_genuine_event_behind_it_is_handled(
    broker: Any, kafka_bootstrap: str, run_id: str
) -> None:
    handled: list[str] = []
    genuine_seen = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id not in event.person_id:
            return  # history of the shared topic
        handled.append(event.person_id)
        genuine_seen.set()

    EventConsumer(broker, group_id=f"test-{run_id}", handlers={SkillOffered: handle})
    await broker.start()

    forged = outbox_entry(_offer(f"forged-{run_id}"))
    genuine = outbox_entry(_offer(f"genuine-{run_id}"))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        # Same key -> same partition: the genuine record waits behind the impostor.
        key = f"impostor-{run_id}".encode()
        for entry, source in ((forged, "evil"), (genuine, genuine.headers["ce_source"])):
            headers = {**entry.headers, "ce_source": source}
            await producer.send_and_wait(
                entry.topic,
                entry.value.encode(),
                key=key,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
    finally:
        await producer.stop()

    await asyncio.wait_for(genuine_seen.wait(), timeout=90)
    assert handled == [f"genuine-{run_id}"]
    [dead] = [
        r
        for r in await read_records(
            kafka_bootstrap,
            "peerloop.skill-offered.v1.dlq",
            match=key_has(run_id),
            want=1,
            within=90,
        )
        if dict(r.headers)["dlq_consumer_group"] == f"test-{run_id}".encode()
    ]
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq_reason"] == (
        "impostor: ce_source 'evil' is not the owner 'peerloop/profiles' "
        "of io.peerloop.skill-offered.v1"
    )
    assert headers["dlq_error_type"] == "ImpostorEvent"
    assert headers["ce_id"] == forged.id
    assert dead.value == forged.value.encode()


async def test_a_batch_consumer_dead_letters_the_poison_in_the_middle_applies_the_rest_and_commits(
    broker: Any, kafka_bootstrap: str, run_id: str
) -> None:
    handled: list[tuple[str, int]] = []
    all_seen = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id not in event.person_id:
            return  # history of the shared topic
        handled.append((event.person_id, event.sequence))
        if len(handled) == 4:
            all_seen.set()

    group = f"test-{run_id}"
    EventConsumer(broker, group_id=group, handlers={SkillOffered: handle}, batch=True)
    person, other = f"batch-{run_id}", f"other-{run_id}"
    records = [
        outbox_entry(_offer(person, 1)),
        None,  # the poison, between two records of the same key
        outbox_entry(_offer(person, 2)),
        outbox_entry(_offer(person, 3)),
        outbox_entry(_offer(other, 1)),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50)
    await producer.start()
    try:
        # Sent before the consumer starts, so one fetch holds them all.
        headers = outbox_entry(_offer(person, 9)).headers
        sent = [
            producer.send(
                "peerloop.skill-offered.v1",
                b"{not json" if entry is None else entry.value.encode(),
                key=(person if entry is None else entry.key).encode(),
                headers=[
                    (k, v.encode())
                    for k, v in (headers if entry is None else entry.headers).items()
                ],
            )
            for entry in records
        ]
        metadata = [await future for future in await asyncio.gather(*sent)]
    finally:
        await producer.stop()
    await broker.start()

    await asyncio.wait_for(all_seen.wait(), timeout=90)
    assert [s for p, s in handled if p == person] == [1, 2, 3]  # one key in offset order
    assert (other, 1) in handled
    [dead] = [
        r
        for r in await read_records(
            kafka_bootstrap,
            "peerloop.skill-offered.v1.dlq",
            match=key_has(run_id),
            want=1,
            within=90,
        )
        if dict(r.headers)["dlq_consumer_group"] == group.encode()
    ]
    dead_headers = {k: v.decode() for k, v in dead.headers}
    assert dead_headers["dlq_reason"].startswith("unparseable:")
    assert dead_headers["dlq_source_offset"] == str(metadata[1].offset)

    # The offsets are committed past the whole batch, the poison included.
    checker = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await checker.start()
    try:
        for md in metadata:
            tp = TopicPartition(md.topic, md.partition)
            deadline = asyncio.get_running_loop().time() + 30
            while (await checker.committed(tp) or 0) <= md.offset:
                assert asyncio.get_running_loop().time() < deadline, f"{tp} not committed"
                await asyncio.sleep(0.2)
    finally:
        await checker.stop()


async def test_every_replica_consumers_each_read_the_whole_topic_and_say_when_caught_up(
    kafka_bootstrap: str, run_id: str
) -> None:
    def definition(n: int) -> OrganisationSkillDefined:
        return OrganisationSkillDefined(
            skill_id=f"s{n}-{run_id}", name=f"S{n} {run_id}", sequence=1
        )

    producer = make_broker(kafka_bootstrap, client_id="test-contracts")
    await producer.start()
    for n in range(6):  # keys spread over the partitions: a group would split them
        await publish_entry(producer, outbox_entry(definition(n)))
    brokers, seen = [], []
    for _ in range(2):
        broker = make_broker(kafka_bootstrap, client_id="test-replica")
        got: set[str] = set()

        async def handle(event: OrganisationSkillDefined, _meta: CloudEventMeta, got=got) -> None:
            if run_id in event.skill_id:
                got.add(event.skill_id)

        consumer = EventConsumer(
            broker,
            group_id=f"test-{run_id}.skills",
            handlers={OrganisationSkillDefined: handle},
            every_replica=True,
        )
        brokers.append((broker, consumer))
        seen.append(got)
    try:
        for broker, _ in brokers:
            await broker.start()
        for _, consumer in brokers:
            async with asyncio.timeout(60):
                while not await consumer.caught_up():
                    await asyncio.sleep(0.2)
        await publish_entry(producer, outbox_entry(definition(6)))  # and then follow
        async with asyncio.timeout(60):
            while any(len(got) < 7 for got in seen):
                await asyncio.sleep(0.2)
        assert seen[0] == seen[1] == {f"s{n}-{run_id}" for n in range(7)}
    finally:
        for broker, _ in brokers:
            await broker.stop()
        await producer.stop()
