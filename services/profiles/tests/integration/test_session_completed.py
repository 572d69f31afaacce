"""Consuming `session-completed`: applied once, poison dead-lettered, the partition moves on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.profiles import SkillAcquired
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.bootstrap import bootstrap
from peerloop_profiles.config import Settings
from peerloop_profiles.domain.model import Person
from peerloop_runtime.kafka import RetryPolicy, publish_entry
from peerloop_runtime.outbox import OutboxEntry, outbox_entry

from .conftest import ReadPublished

pytestmark = pytest.mark.integration

TOPIC = SessionCompleted.topic()


def _session(
    run_id: str, session: str, learner: str, teacher: str, skill: str = "mongodb"
) -> SessionCompleted:
    return SessionCompleted(
        request_id=f"r-{run_id}",  # one key: every record lands on one partition, in order
        requester_id=learner,
        session_id=f"{session}-{run_id}",
        learner_id=learner,
        teacher_id=teacher,
        skill_id=skill,
        level=2,
        duration_minutes=45,
        completed_at=datetime(2026, 11, 28, 15, 10, tzinfo=UTC),
        sequence=6,
    )


async def _register(client: httpx.AsyncClient, pid: str) -> None:
    response = await client.post(
        "/people",
        json={
            "person_id": pid,
            "display_name": pid,
            "email": "x@example.com",
            "team": "t",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 201


async def _wait_for(
    client: httpx.AsyncClient, pid: str, done: Any, timeout: float = 60
) -> dict[str, Any]:
    async def person() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(f"/people/{pid}")).json()
        return body if done(body) else None

    return await eventually(person, timeout, interval=0.2, what=f"person {pid}")


async def test_a_duplicate_session_completed_is_applied_once(
    app: Any, client: httpx.AsyncClient, read_events: ReadPublished, run_id: str
) -> None:
    learner, teacher, other = f"lea-{run_id}", f"tea-{run_id}", f"oth-{run_id}"
    for pid in (learner, teacher, other):
        await _register(client, pid)
    broker = app.state.runtime.broker
    first = outbox_entry(_session(run_id, "s1", learner, teacher))
    await publish_entry(broker, first)
    await publish_entry(broker, first)  # redelivered: same ce_id
    await publish_entry(
        broker, outbox_entry(_session(run_id, "s1", learner, teacher))
    )  # replayed: new ce_id
    await publish_entry(broker, outbox_entry(_session(run_id, "s2", other, teacher, skill="go")))

    # s2 is behind the duplicates on the same partition: once it is applied, they were too.
    await _wait_for(client, other, lambda b: b["skills_learned"])
    ada = (await client.get(f"/people/{learner}")).json()
    assert [(s["skill_id"], s["session_id"], s["teacher_id"]) for s in ada["skills_learned"]] == [
        ("mongodb", f"s1-{run_id}", teacher)
    ]
    assert (await client.get(f"/people/{teacher}")).json()["sessions_taught"] == 2

    acquired = await read_events(learner, want=1, topics=[SkillAcquired.topic()])
    assert len(acquired) == 1
    event = SkillAcquired.decode(acquired[0].body)
    assert (event.skill_id, event.skill_name, event.level, event.teacher_id) == (
        "mongodb",
        "MongoDB",
        2,
        teacher,
    )
    assert event.sequence == 3  # after profile-registered and availability-changed
    assert acquired[0].key == learner
    assert await read_events(teacher, want=0, topics=[SkillAcquired.topic()], quiet=0.5) == []


def _headers(entry: OutboxEntry) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in entry.headers.items()]


async def test_poison_messages_are_dead_lettered_and_the_next_one_is_processed(
    client: httpx.AsyncClient, read_events: ReadPublished, kafka_bootstrap: str, run_id: str
) -> None:
    learner, teacher = f"lea-{run_id}", f"tea-{run_id}"
    for pid in (learner, teacher):
        await _register(client, pid)
    key = f"r-{run_id}".encode()
    good = outbox_entry(_session(run_id, "good", learner, teacher))
    self_taught = outbox_entry(_session(run_id, "self", learner, learner))
    strangers = outbox_entry(_session(run_id, "strangers", f"nobody-{run_id}", f"none-{run_id}"))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, b"{not json", key=key, headers=_headers(good))
        await producer.send_and_wait(TOPIC, good.value.encode(), key=key, headers=[])
        await producer.send_and_wait(TOPIC, b'{"session_id": "s"}', key=key, headers=_headers(good))
        await producer.send_and_wait(
            TOPIC, self_taught.value.encode(), key=key, headers=_headers(self_taught)
        )
        await producer.send_and_wait(
            TOPIC, strangers.value.encode(), key=key, headers=_headers(strangers)
        )
        await producer.send_and_wait(TOPIC, good.value.encode(), key=key, headers=_headers(good))
    finally:
        await producer.stop()

    body = await _wait_for(client, learner, lambda b: b["skills_learned"])
    assert [s["session_id"] for s in body["skills_learned"]] == [f"good-{run_id}"]

    dead = await read_events(f"r-{run_id}", want=4, topics=[f"{TOPIC}.dlq"])
    # Dead-lettering is at least once too (a rebalance may replay an uncommitted record),
    # so the records are told apart by where they came from.
    by_offset = {int(d.headers["dlq_source_offset"]): d.headers["dlq_reason"] for d in dead}
    reasons = [by_offset[offset] for offset in sorted(by_offset)]
    assert len(reasons) == 4, reasons  # the session between strangers is skipped, not dead-lettered
    assert reasons[0].startswith("unparseable: ")
    assert "json" in reasons[0].lower()
    assert reasons[1].startswith("unparseable: missing CloudEvents header")
    assert reasons[2].startswith("unparseable: ")
    assert "validation error" in reasons[2]
    assert reasons[3] == (
        f"rejected: session self-{run_id} names the same person as learner and teacher"
    )
    for record in dead:
        assert record.headers["dlq_source_topic"] == TOPIC
        assert record.headers["dlq_consumer_group"] == f"test-{run_id}"
        assert int(record.headers["dlq_source_partition"]) >= 0
        assert record.headers["dlq_failed_at"]


class BrokenStore(InMemoryPersonRepository):
    async def get(self, person_id: str) -> Person | None:
        raise RuntimeError(f"cannot read {person_id}")


async def test_a_handler_that_keeps_failing_is_retried_with_backoff_then_dead_lettered(
    settings: Settings, read_events: ReadPublished, run_id: str
) -> None:
    runtime = bootstrap(
        settings,
        people=BrokenStore(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2),
    ).runtime
    [consumer] = [c for c in runtime.consumers if not c.every_replica]
    # From the topic's end: earlier tests' sessions would each be retried and dead-lettered
    # first (every read fails here), and this one's would come too late.
    await start_groups_at_end(settings.kafka_bootstrap_servers, [consumer.group_id])
    await runtime.broker.start()
    try:
        entry = outbox_entry(_session(run_id, "s1", f"lea-{run_id}", f"tea-{run_id}"))
        await publish_entry(runtime.broker, entry)
        [dead] = await read_events(f"r-{run_id}", want=1, topics=[f"{TOPIC}.dlq"])
    finally:
        await runtime.stop()
    assert dead.headers["dlq_attempts"] == "3"
    assert dead.headers["dlq_reason"] == f"handler failed: cannot read lea-{run_id}"
    assert dead.headers["ce_id"] == entry.id
    assert consumer.stats.dead_lettered >= 1
