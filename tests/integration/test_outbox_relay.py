"""The outbox relay on the real store and broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.kafka import make_broker, publish_entry
from peerloop_runtime.mongo import connect
from peerloop_runtime.outbox import OutboxEntry, outbox_entry
from peerloop_runtime.outbox_relay import PENDING, OutboxRelay, claims_collection
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection

pytestmark = pytest.mark.integration


def _offer(person: str, seq: int) -> SkillOffered:
    return SkillOffered(
        person_id=person,
        skill_id="python",
        skill_name="Python",
        level=3,
        weekly_capacity=1,
        sequence=seq,
    )


async def _keys_and_ids(bootstrap: str, run_id: str, want: int) -> list[tuple[str, str, int]]:
    consumer = AIOKafkaConsumer(
        "peerloop.skill-offered.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[tuple[str, str, int]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline and len(seen) < want:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    if run_id in r.key.decode():
                        ce_id = dict(r.headers)["ce_id"].decode()
                        seen.append((r.key.decode(), ce_id, SkillOffered.decode(r.value).sequence))
        # Give a duplicate the chance to show up.
        for records in (await consumer.getmany(timeout_ms=1500)).values():
            for r in records:
                if run_id in r.key.decode():
                    seen.append(
                        (
                            r.key.decode(),
                            dict(r.headers)["ce_id"].decode(),
                            SkillOffered.decode(r.value).sequence,
                        )
                    )
    finally:
        await consumer.stop()
    return seen


async def test_relay_publishes_in_order_and_clears_the_outbox(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    people = client[mongo_db_name].people
    broker = make_broker(kafka_bootstrap, client_id="test-relay")
    await broker.start()
    person = f"p-{run_id}"
    entries = [outbox_entry(_offer(person, n)).to_document() for n in (1, 2, 3)]
    await people.insert_one({"_id": person, "outbox": entries})
    relay = OutboxRelay([people], publish=lambda e: publish_entry(broker, e))
    try:
        assert await relay.drain() == 3
        assert (await people.find_one({"_id": person}))["outbox"] == []  # type: ignore[index]
        seen = await _keys_and_ids(kafka_bootstrap, run_id, 3)
        assert [s[2] for s in seen] == [1, 2, 3]
        assert [s[1] for s in seen] == [e["id"] for e in entries]
    finally:
        await broker.stop()
        await client.close()


async def test_crash_between_publish_and_clear_only_republishes_same_ids(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    people = client[mongo_db_name].people
    broker = make_broker(kafka_bootstrap, client_id="test-relay")
    await broker.start()
    person = f"p-{run_id}"
    entry = outbox_entry(_offer(person, 1))
    await people.insert_one({"_id": person, "outbox": [entry.to_document()]})

    class Crash(Exception):
        pass

    async def publish_then_crash(e: OutboxEntry) -> None:
        await publish_entry(broker, e)
        raise Crash  # the process dies after the broker took it, before the outbox is cleared

    crashed = OutboxRelay([people], publish=publish_then_crash)
    with pytest.raises(Crash):
        await crashed.drain()
    doc = await people.find_one({"_id": person})
    assert doc is not None and [e["id"] for e in doc["outbox"]] == [entry.id]

    restarted = OutboxRelay([people], publish=lambda e: publish_entry(broker, e))
    try:
        assert await restarted.drain() == 1
        seen = await _keys_and_ids(kafka_bootstrap, run_id, 2)
        assert [s[1] for s in seen] == [entry.id, entry.id]  # at-least-once, same ce_id
        assert len({s[1] for s in seen}) == 1  # a consumer deduping by ce_id applies it once
    finally:
        await broker.stop()
        await client.close()


@pytest.fixture
async def people(
    mongodb_uri: str, mongo_db_name: str
) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client = connect(mongodb_uri, app_name="test-relay")
    yield client[mongo_db_name].people
    await client.close()


async def test_a_named_document_is_published_at_once_and_the_rest_by_the_sweep(
    people: AsyncCollection[dict[str, Any]], run_id: str
) -> None:
    published: list[str] = []

    async def publish(entry: OutboxEntry) -> None:
        published.append(entry.id)

    relay = OutboxRelay([people], publish=publish, sweep_every=3600)
    named, unnamed = (outbox_entry(_offer(f"p-{run_id}-{n}", 1)) for n in ("a", "b"))
    relay.start()
    try:
        await eventually(
            lambda: relay.last_backlog is not None, 10, interval=0.02
        )  # the start-up sweep is done
        await people.insert_one({"_id": "unnamed", "outbox": [unnamed.to_document()]})
        await people.insert_one({"_id": "named", "outbox": [named.to_document()]})
        relay.notify("named")
        await eventually(lambda: published == [named.id], 10, interval=0.02)
        await asyncio.sleep(0.5)
        assert published == [named.id]  # the next sweep is an hour away

        relay.notify()  # sweep now
        await eventually(lambda: published == [named.id, unnamed.id], 10, interval=0.02)
        # The sweep records its backlog after its last batch, a moment after publishing.
        await eventually(lambda: relay.last_backlog == 1, 10, interval=0.02)
        assert await people.count_documents({"outbox.0": {"$exists": True}}) == 0
    finally:
        await relay.stop()


async def test_relays_named_the_same_documents_publish_each_entry_once(
    people: AsyncCollection[dict[str, Any]], run_id: str
) -> None:
    published: list[str] = []

    async def publish(entry: OutboxEntry) -> None:
        await asyncio.sleep(0.001)  # let the other relay try the same document meanwhile
        published.append(entry.id)

    ids = [f"p-{run_id}-{n}" for n in range(30)]
    entries = {i: [outbox_entry(_offer(i, s)) for s in (1, 2)] for i in ids}
    await people.insert_many(
        [{"_id": i, "outbox": [e.to_document() for e in entries[i]]} for i in ids]
    )
    relays = [OutboxRelay([people], publish=publish, sweep_every=3600) for _ in range(3)]
    for relay in relays:
        for i in ids:
            relay.notify(i)
    try:
        for relay in relays:
            relay.start()
        await eventually(lambda: len(published) >= 60, 10, interval=0.02)
        await asyncio.sleep(0.5)
        assert sorted(published) == sorted(e.id for i in ids for e in entries[i])
        for i in ids:  # each person's entries in order
            assert [p for p in published if p in {e.id for e in entries[i]}] == [
                e.id for e in entries[i]
            ]
    finally:
        for relay in relays:
            await relay.stop()


async def test_a_claim_held_by_a_live_relay_is_respected_and_a_dead_ones_runs_out(
    people: AsyncCollection[dict[str, Any]], run_id: str
) -> None:
    published: list[str] = []

    async def publish(entry: OutboxEntry) -> None:
        published.append(entry.id)

    claims = people.database[claims_collection(people.name)]
    now = datetime.now(UTC)
    live, dead = (outbox_entry(_offer(f"p-{run_id}-{n}", 1)) for n in ("live", "dead"))
    for entry, until in ((live, now + timedelta(minutes=5)), (dead, now - timedelta(seconds=1))):
        await people.insert_one({"_id": entry.key, "outbox": [entry.to_document()]})
        await claims.insert_one({"_id": entry.key, "owner": "another relay", "until": until})

    relay = OutboxRelay([people], publish=publish, sweep_every=3600)
    relay.notify(live.key)
    relay.notify(dead.key)
    assert await relay.drain() == 1
    assert published == [dead.id]
    assert await claims.count_documents({"_id": {"$in": [live.key, dead.key]}}) == 1  # let go

    await claims.delete_one({"_id": live.key})  # the other relay is done with it
    relay.notify(live.key)
    assert await relay.drain() == 1
    assert published == [dead.id, live.id]
    assert await people.count_documents({"_id": {"$in": [live.key, dead.key]}, **PENDING}) == 0


class _Commands(monitoring.CommandListener):
    """Counts the store commands of one client, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_batch_of_documents_costs_one_round_trip_each_for_claims_pulls_and_releases(
    mongodb_uri: str, mongo_db_name: str, run_id: str
) -> None:
    commands = _Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_uri, tz_aware=True, event_listeners=[commands]
    )
    people = client[mongo_db_name].people
    claims = people.database[claims_collection(people.name)]
    published: list[str] = []

    async def publish(entry: OutboxEntry) -> None:
        published.append(entry.id)

    try:
        entries = [outbox_entry(_offer(f"p-{run_id}-{n}", 1)) for n in range(8)]
        await people.insert_many([{"_id": e.key, "outbox": [e.to_document()]} for e in entries])
        # One of them is held by another relay, alive: it must be skipped, its claim kept.
        held = entries[3]
        until = datetime.now(UTC) + timedelta(minutes=5)
        await claims.insert_one({"_id": held.key, "owner": "another relay", "until": until})
        relay = OutboxRelay([people], publish=publish, sweep_every=3600)
        for entry in entries:
            relay.notify(entry.key)
        commands.names.clear()

        assert await relay._relay_hinted() == 7

        assert sorted(published) == sorted(e.id for e in entries if e is not held)
        # Claims: one insert for all 8, then the one duplicate's lapse check (a delete).
        assert commands.names.count("insert") == 1
        assert commands.names.count("update") == 1  # every pull in one bulk write
        assert commands.names.count("delete") == 2  # the lapse check, then all releases
        assert commands.names.count("find") == 7  # the reads stay point lookups by `_id`
        assert await claims.count_documents({}) == 1  # ours let go, the other relay's kept
        assert await people.count_documents(PENDING) == 1
    finally:
        await client.close()  # the fixture drops the database
