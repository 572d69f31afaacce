"""A state topic's tombstone on the real broker: a null value with CloudEvents headers.

Any CloudEvents reader takes it (an event without data), and Peerloop's own consumer
hands its handler a `Tombstone`; a null value on a change-event topic is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from faststream.kafka import KafkaBroker
from peerloop_cli.testing.topics import key_has, read_records
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillOffered
from peerloop_contracts.states import PersonState, Tombstone
from peerloop_runtime.kafka import EventConsumer, publish_entry
from peerloop_runtime.outbox import outbox_entry, tombstone_entry

pytestmark = pytest.mark.integration


class _Message:
    def __init__(self, record: Any) -> None:
        self.raw_message = record
        self.consumer = None


async def _published_tombstone(producer: KafkaBroker, kafka_bootstrap: str, key: str) -> Any:
    entry = tombstone_entry(PersonState, key)
    assert await publish_entry(producer, entry) is None
    [record] = await read_records(
        kafka_bootstrap, PersonState.topic(), match=key_has(key), want=1, within=60
    )
    return record


async def test_a_tombstone_is_a_null_value_any_cloudevents_reader_takes(
    producer: KafkaBroker, kafka_bootstrap: str, run_id: str
) -> None:
    key = f"p-{run_id}"
    record = await _published_tombstone(producer, kafka_bootstrap, key)

    assert record.value is None
    assert record.key == key.encode()
    headers = dict(record.headers)
    assert headers["ce_type"] == PersonState.ce_type().encode()
    assert headers["ce_subject"] == key.encode()
    assert headers["content-type"] == b"application/json"  # never empty
    decoded = ce_kafka.from_binary_event(
        ce_kafka.KafkaMessage(headers=headers, key=record.key, value=record.value)
    )
    assert (decoded.get_type(), decoded.get_subject(), decoded.get_data()) == (
        PersonState.ce_type(),
        key,
        None,
    )


async def test_our_consumer_hands_a_tombstone_to_the_states_handler(
    producer: KafkaBroker, kafka_bootstrap: str, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"p-{run_id}"
    record = await _published_tombstone(producer, kafka_bootstrap, key)
    broker = KafkaBroker("127.0.0.1:1")  # never connected: dead letters are captured
    dead: list[dict[str, Any]] = []

    async def capture(value: bytes, **kwargs: Any) -> None:
        dead.append({"value": value, **kwargs})

    monkeypatch.setattr(broker, "publish", capture)
    seen: list[Any] = []

    async def handle(event: Any, _meta: CloudEventMeta) -> None:
        seen.append(event)

    consumer = EventConsumer(
        broker, group_id="g", handlers={PersonState: handle, SkillOffered: handle}
    )
    await consumer._consume(b"", _Message(record))  # type: ignore[arg-type]
    assert seen == [Tombstone(PersonState, key)]
    assert dead == []

    # A null value where a change event belongs is no tombstone: it is dead-lettered.
    offered = outbox_entry(SkillOffered(
        person_id=key, skill_id="go", skill_name="Go", level=2, weekly_capacity=1, sequence=1,
    ))  # fmt: skip
    null_offer = dataclasses.replace(
        record,
        topic=SkillOffered.topic(),
        value=None,
        headers=[(k, v.encode()) for k, v in offered.headers.items()],
    )
    await consumer._consume(b"", _Message(null_offer))  # type: ignore[arg-type]
    assert len(seen) == 1
    assert [d["topic"] for d in dead] == [f"{SkillOffered.topic()}.dlq"]
    assert dead[0]["headers"]["dlq_reason"].startswith("unparseable")
