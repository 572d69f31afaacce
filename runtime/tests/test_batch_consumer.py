"""The batch consumer without a broker: per-record dead letters, per-key order, grouped writes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.kafka import EventConsumer, RetryPolicy
from peerloop_runtime.outbox import outbox_entry


class _Batch:
    """What FastStream hands a batch subscriber: every record of the fetch."""

    def __init__(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        self.raw_message = tuple(records)
        self.consumer = None


def _offer(person_id: str, sequence: int) -> SkillOffered:
    return SkillOffered(
        person_id=person_id,
        skill_id="mongodb",
        skill_name="MongoDB",
        level=4,
        description="aggregation pipelines",
        weekly_capacity=2,
        sequence=sequence,
    )


def _record(offset: int, key: str, body: bytes, headers: dict[str, str]) -> Any:
    return ConsumerRecord(
        topic=SkillOffered.topic(),
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key.encode(),
        value=body,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(body),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def _good(offset: int, person_id: str, sequence: int) -> Any:
    entry = outbox_entry(_offer(person_id, sequence))
    return _record(offset, person_id, entry.value.encode(), dict(entry.headers))


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> tuple[KafkaBroker, list[dict[str, Any]]]:
    broker = KafkaBroker("127.0.0.1:1")  # never connected: publish is replaced
    sent: list[dict[str, Any]] = []

    async def publish(value: bytes, **kwargs: Any) -> None:
        sent.append({"value": value, **kwargs})

    monkeypatch.setattr(broker, "publish", publish)
    return broker, sent


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone_and_the_others_applied(
    published: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    broker, sent = published
    seen: list[tuple[str, int]] = []

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        seen.append((event.person_id, event.sequence))

    consumer = EventConsumer(broker, group_id="g", handlers={SkillOffered: handle}, batch=True)
    poison_headers = dict(outbox_entry(_offer("p-1", 2)).headers)
    batch = [
        _good(10, "p-1", 1),
        _record(11, "p-1", b"{not json", poison_headers),
        _good(12, "p-1", 3),
        _good(13, "p-2", 1),
    ]
    # Returning normally is what lets FastStream commit the batch (NACK_ON_ERROR).
    await consumer._consume_batch(None, _Batch(batch))  # type: ignore[arg-type]

    assert sorted(seen) == [("p-1", 1), ("p-1", 3), ("p-2", 1)]
    [dead] = sent
    assert dead["topic"] == "peerloop.skill-offered.v1.dlq"
    assert dead["value"] == b"{not json"
    assert dead["headers"]["dlq_source_offset"] == "11"
    assert dead["headers"]["dlq_reason"].startswith("unparseable:")
    assert consumer.stats.consumed == 4 and consumer.stats.dead_lettered == 1


async def test_one_key_in_offset_order_while_other_keys_run_alongside(
    published: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    broker, _ = published
    order: list[tuple[str, int]] = []
    running = 0
    most_at_once = 0

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        # The first record of each key is the slowest: a consumer that let a key's
        # later record overtake it would show up in `order`.
        await asyncio.sleep(0.02 if event.sequence == 1 else 0.0)
        order.append((event.person_id, event.sequence))
        running -= 1

    consumer = EventConsumer(broker, group_id="g", handlers={SkillOffered: handle}, batch=True)
    batch = [_good(i, f"p-{i % 3}", 1 + i // 3) for i in range(9)]
    await consumer._consume_batch(None, _Batch(batch))  # type: ignore[arg-type]

    for key in ("p-0", "p-1", "p-2"):
        assert [s for k, s in order if k == key] == [1, 2, 3]
    assert most_at_once == 3  # keys concurrently: a batch costs its longest key


async def test_a_failing_grouped_write_falls_back_to_one_by_one_and_dead_letters_only_the_culprit(
    published: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    broker, sent = published
    applied: list[str] = []
    grouped_calls: list[int] = []

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if event.person_id == "bad":
            raise ValueError("a rule says no")
        applied.append(event.person_id)

    async def handle_batch(items: Sequence[tuple[Any, CloudEventMeta]]) -> None:
        grouped_calls.append(len(items))
        if any(e.person_id == "bad" for e, _ in items):
            raise ValueError("one of them is bad")
        applied.extend(e.person_id for e, _ in items)

    consumer = EventConsumer(
        broker,
        group_id="g",
        handlers={SkillOffered: handle},
        batch_handlers={SkillOffered: handle_batch},
        retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
        batch=True,
    )
    await consumer._consume_batch(None, _Batch([_good(1, "a", 1), _good(2, "b", 1)]))  # type: ignore[arg-type]
    assert grouped_calls == [2] and applied == ["a", "b"] and sent == []

    batch = [_good(3, "c", 1), _good(4, "bad", 1), _good(5, "d", 1)]
    await consumer._consume_batch(None, _Batch(batch))  # type: ignore[arg-type]
    assert grouped_calls == [2, 3]
    assert sorted(applied) == ["a", "b", "c", "d"]
    [dead] = sent
    assert dead["headers"]["dlq_source_offset"] == "4"
    assert dead["headers"]["dlq_attempts"] == "2"


async def test_a_transient_failure_fails_the_whole_batch_for_redelivery(
    published: tuple[KafkaBroker, list[dict[str, Any]]],
) -> None:
    broker, sent = published

    class StoreDown(Exception):
        pass

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if event.person_id == "p-2":
            raise StoreDown("no store")

    consumer = EventConsumer(
        broker,
        group_id="g",
        handlers={SkillOffered: handle},
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0, transient=(StoreDown,)),
        batch=True,
    )
    # Raising makes FastStream nack: each partition rewinds to the batch's first record.
    with pytest.raises(StoreDown):
        await consumer._consume_batch(None, _Batch([_good(1, "p-1", 1), _good(2, "p-2", 1)]))  # type: ignore[arg-type]
    assert sent == []


def test_a_grouped_handler_needs_a_per_record_one_to_fall_back_on() -> None:
    async def handle_batch(items: Sequence[tuple[Any, CloudEventMeta]]) -> None:
        return None

    with pytest.raises(ValueError, match="batch handlers without a handler"):
        EventConsumer(
            KafkaBroker("127.0.0.1:1"),
            group_id="g",
            handlers={},
            batch_handlers={SkillOffered: handle_batch},
            batch=True,
        )
