"""A handler that hangs cannot hold its partition: it is cut at the deadline and redelivered."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.kafka import EventConsumer, HandlerDeadlineError, RetryPolicy
from peerloop_runtime.outbox import outbox_entry
from peerloop_runtime.settings import ServiceSettings

QUICK = RetryPolicy(base_delay=0.0, max_delay=0.0, deadline=0.05)


class _Message:
    def __init__(self, raw: Any) -> None:
        self.raw_message = raw
        self.consumer = None


def _record(offset: int, person_id: str) -> ConsumerRecord[bytes, bytes]:
    offer = SkillOffered(
        person_id=person_id,
        skill_id="mongodb",
        skill_name="MongoDB",
        level=4,
        description="aggregation pipelines",
        weekly_capacity=2,
        sequence=1,
    )
    entry = outbox_entry(offer)
    body = entry.value.encode()
    return ConsumerRecord(
        topic=SkillOffered.topic(),
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=person_id.encode(),
        value=body,
        checksum=None,
        serialized_key_size=len(person_id),
        serialized_value_size=len(body),
        headers=[(k, v.encode()) for k, v in dict(entry.headers).items()],
    )


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> tuple[KafkaBroker, list[dict[str, Any]]]:
    broker = KafkaBroker("127.0.0.1:1")  # never connected: publish is replaced
    sent: list[dict[str, Any]] = []

    async def publish(value: bytes, **kwargs: Any) -> None:
        sent.append({"value": value, **kwargs})

    monkeypatch.setattr(broker, "publish", publish)
    return broker, sent


async def test_a_hung_handler_is_cut_at_the_deadline_and_its_record_redelivered_not_dead_lettered(
    broker: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    kafka, sent = broker
    calls = 0

    async def hang_once(event: SkillOffered, meta: CloudEventMeta) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()  # a reply that never comes

    consumer = EventConsumer(kafka, group_id="g", handlers={SkillOffered: hang_once}, retry=QUICK)
    record = _record(7, "p-1")
    # Raising is FastStream's nack: the partition rewinds and the record comes again.
    with pytest.raises(HandlerDeadlineError):
        await asyncio.wait_for(consumer._consume(record.value or b"", _Message(record)), 5)  # type: ignore[arg-type]
    await consumer._consume(record.value or b"", _Message(record))  # type: ignore[arg-type]
    assert calls == 2 and sent == []


async def test_a_hung_grouped_write_fails_the_batch_for_redelivery(
    broker: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    kafka, sent = broker

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        return None

    async def hang(items: Sequence[tuple[Any, CloudEventMeta]]) -> None:
        await asyncio.Event().wait()

    consumer = EventConsumer(
        kafka,
        group_id="g",
        handlers={SkillOffered: handle},
        batch_handlers={SkillOffered: hang},
        retry=QUICK,
        batch=True,
    )
    batch = (_record(1, "p-1"), _record(2, "p-2"))
    with pytest.raises(HandlerDeadlineError):
        await asyncio.wait_for(consumer._consume_batch(None, _Message(batch)), 5)  # type: ignore[arg-type]
    assert sent == []


async def test_a_slow_handler_within_the_deadline_is_left_alone(
    broker: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    kafka, sent = broker
    done: list[str] = []

    async def slow(event: SkillOffered, meta: CloudEventMeta) -> None:
        await asyncio.sleep(0.01)
        done.append(event.person_id)

    policy = RetryPolicy(base_delay=0.0, max_delay=0.0, deadline=2.0)
    consumer = EventConsumer(kafka, group_id="g", handlers={SkillOffered: slow}, retry=policy)
    record = _record(3, "p-3")
    await consumer._consume(record.value or b"", _Message(record))  # type: ignore[arg-type]
    assert done == ["p-3"] and sent == []


def test_services_take_the_deadline_from_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_HANDLER_DEADLINE_SECONDS", "12.5")
    assert ServiceSettings().handler_deadline_seconds == 12.5
