"""The delivery queue on the real store: crashes around a send, racing workers, digests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from peerloop_cli.testing.waiting import eventually
from peerloop_notifications.adapters.notification_store import NotificationStore, notification_id
from peerloop_notifications.adapters.people_store import PeopleStore
from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.application.delivery import DeliveryWorker
from peerloop_notifications.domain.retry import Backoff
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


class RecordingSender:
    def __init__(self, *, delay: float = 0.0, fail_with: DeliveryError | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.delay = delay
        self.fail_with = fail_with

    async def send(self, message: Outgoing) -> None:
        await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


class Crash(BaseException):
    """The process dying: nothing in the service catches it."""


@pytest.fixture
async def stores(mongodb_uri, mongo_db_name):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    db = client[mongo_db_name]
    store = NotificationStore(db.notifications, db.delivery_claims)
    await store.ensure_indexes()
    people = PeopleStore(db.people, db.preferences)
    await people.ensure_indexes()
    try:
        yield store, people
    finally:
        await client.close()


async def _person(people: PeopleStore, person_id: str) -> None:
    await people.apply_profile(
        person_id,
        1,
        {"display_name": "Dee", "email": f"{person_id}@example.com", "time_zone": "UTC"},
        guard="profile_sequence",
    )


async def _queue(
    store: NotificationStore, person_id: str, n: int, *, digest: bool = False
) -> list[str]:
    ids = []
    now = datetime.now(UTC)
    for i in range(n):
        nid = notification_id(person_id, f"ev-{i}", "email", "teach-back-invitation")
        await store.collection.insert_one(
            {
                "_id": nid,
                "person_id": person_id,
                "kind": "teach-back-invitation",
                "channel": "email",
                "source_event_id": f"ev-{i}",
                "source_type": "io.peerloop.skill-acquired.v1",
                "subject": f"subject {i}",
                "body": f"body {i}",
                "created_at": now + timedelta(milliseconds=i),
                "state": "pending",
                "attempts": 0,
                "digest": digest,
                "next_attempt_at": now - timedelta(seconds=1),
                "last_error": None,
            }
        )
        ids.append(nid)
    return ids


def _worker(store, people, sender, **kwargs) -> DeliveryWorker:
    return DeliveryWorker(
        store=store,
        people=people,
        senders={"email": sender},
        backoff=Backoff(base_seconds=0.05, max_seconds=0.1, max_attempts=3),
        **kwargs,
    )


async def test_crash_before_sending_is_sent_by_another_worker_after_the_lease(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)

    class DiesBeforeSending:
        async def send(self, message: Outgoing) -> None:
            raise Crash  # the process dies after marking `sending`, before the SMTP call

    dying = _worker(store, people, DiesBeforeSending(), lease=timedelta(milliseconds=300))
    with pytest.raises(Crash):
        await dying.run_once()
    assert (await store.get(nid))["state"] == "sending"

    sender = RecordingSender()
    survivor = _worker(store, people, sender)
    assert await survivor.run_once() is False  # the lease still holds
    await asyncio.sleep(0.4)
    assert await survivor.run_once() is True
    doc = await store.get(nid)
    assert doc["state"] == "sent" and doc["attempts"] == 2
    assert [m.delivery_id for m in sender.sent] == [nid]


async def test_once_sent_nothing_sends_it_again(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    first = RecordingSender()
    assert await _worker(store, people, first).run_once() is True
    later = RecordingSender()
    restarted = _worker(store, people, later, lease=timedelta(milliseconds=1))
    await asyncio.sleep(0.05)
    assert await restarted.run_once() is False
    assert len(first.sent) == 1 and later.sent == []
    doc = await store.collection.find_one({"_id": nid})
    assert doc["state"] == "sent" and [e["topic"] for e in doc["outbox"]] == [
        "peerloop.notification-delivered.v1"
    ]


async def test_racing_workers_send_each_delivery_exactly_once(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    ids = await _queue(store, me, 12)
    sender = RecordingSender(delay=0.01)
    workers = [_worker(store, people, sender) for _ in range(6)]

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    assert sorted(m.delivery_id for m in sender.sent) == sorted(ids)
    states = {d["_id"]: (d["state"], d["attempts"]) async for d in store.collection.find()}
    assert set(states.values()) == {("sent", 1)}


async def test_transient_failures_back_off_then_fail_with_an_event(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    worker = _worker(store, people, RecordingSender(fail_with=DeliveryError("smtp unreachable")))
    assert await worker.run_once() is True
    doc = await store.get(nid)
    assert doc["state"] == "pending" and doc["attempts"] == 1
    assert doc["next_attempt_at"] > datetime.now(UTC) - timedelta(milliseconds=5)
    for _ in range(2):
        await asyncio.sleep(0.15)
        assert await worker.run_once() is True
    doc = await store.collection.find_one({"_id": nid})
    assert doc["state"] == "failed" and doc["attempts"] == 3
    assert doc["last_error"] == "smtp unreachable"
    assert [e["topic"] for e in doc["outbox"]] == ["peerloop.notification-failed.v1"]


async def test_permanent_failure_is_not_retried(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    refused = DeliveryError("recipient refused: [550]", permanent=True)
    assert await _worker(store, people, RecordingSender(fail_with=refused)).run_once()
    doc = await store.get(nid)
    assert doc["state"] == "failed" and doc["attempts"] == 1


async def test_due_digest_items_go_out_as_one_email(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    ids = await _queue(store, me, 3, digest=True)
    sender = RecordingSender()
    worker = _worker(store, people, sender)
    assert await worker.run_once() is True
    assert await worker.run_once() is False
    assert len(sender.sent) == 1
    mail = sender.sent[0]
    assert mail.subject == "Your Peerloop digest: 3 updates"
    assert all(f"subject {i}" in mail.body for i in range(3))
    states = {d["_id"]: d["state"] async for d in store.collection.find()}
    assert states == dict.fromkeys(ids, "sent")


async def test_deliveries_of_an_erased_person_are_dropped(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    await people.erase(me, 2)
    sender = RecordingSender()
    assert await _worker(store, people, sender).run_once() is True
    assert sender.sent == [] and await store.get(nid) is None


async def test_an_email_waits_for_a_profile_still_on_its_way(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    [nid] = await _queue(store, me, 1)  # queued before the profile was consumed
    sender = RecordingSender()
    worker = _worker(store, people, sender)
    assert await worker.run_once() is True
    doc = await store.get(nid)
    assert (doc["state"], doc["last_error"]) == ("pending", "recipient not known yet")
    await _person(people, me)
    await asyncio.sleep(0.15)
    assert await worker.run_once() is True
    assert (await store.get(nid))["state"] == "sent"
    assert [m.address for m in sender.sent] == [f"{me}@example.com"]


async def test_a_channel_switched_off_after_queueing_is_skipped(stores, run_id):
    from peerloop_notifications.domain.preferences import ChannelSwitches, Preferences

    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    await people.set_preferences(me, Preferences(channels=ChannelSwitches(email=False)), 0)
    sender = RecordingSender()
    assert await _worker(store, people, sender).run_once() is True
    doc = await store.collection.find_one({"_id": nid})
    assert doc["state"] == "skipped" and sender.sent == [] and not doc.get("outbox")


async def test_concurrent_preference_saves_of_one_version_have_one_winner(stores, run_id):
    from peerloop_notifications.adapters.people_store import StalePreferencesError
    from peerloop_notifications.domain.preferences import Preferences

    _, people = stores
    me = f"p-{run_id}"
    await _person(people, me)

    async def save(hour: int) -> int | None:
        try:
            return await people.set_preferences(me, Preferences(digest_hour=hour), 0)
        except StalePreferencesError:
            return None

    results = await asyncio.gather(*(save(h) for h in range(10)))
    assert sorted(r for r in results if r is not None) == [1]
    with pytest.raises(StalePreferencesError):
        await people.set_preferences(me, Preferences(), 5)  # a version nobody read
    person = await people.get(me)
    assert person.preferences_version == 1
    assert person.preferences.digest_hour == results.index(1)
    await people.erase(me, 2)
    assert await people.preferences.count_documents({"person_id": me}) == 0


async def test_a_sender_bug_counts_as_a_failed_attempt(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)

    class Broken:
        async def send(self, message: Outgoing) -> None:
            raise KeyError("oops")

    assert await _worker(store, people, Broken()).run_once() is True
    doc = await store.get(nid)
    assert (doc["state"], doc["attempts"]) == ("pending", 1)
    assert "KeyError" in doc["last_error"]


async def test_a_named_delivery_is_sent_at_once_and_the_rest_by_the_sweep(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    sender = RecordingSender()
    worker = _worker(store, people, sender, poll_seconds=3600)
    worker.start()
    try:
        await asyncio.sleep(0.3)  # the start-up sweep found nothing; the next is an hour away
        named, unnamed = await _queue(store, me, 2)
        worker.notify(named)
        await eventually(lambda: [m.delivery_id for m in sender.sent] == [named], 10, interval=0.02)
        await asyncio.sleep(0.3)
        assert (await store.get(unnamed))["state"] == "pending"

        worker.notify()  # look for due deliveries now
        await eventually(lambda: len(sender.sent) == 2, 10, interval=0.02)
        assert [m.delivery_id for m in sender.sent] == [named, unnamed]
    finally:
        await worker.stop()


async def test_a_named_delivery_is_left_alone_until_it_is_due(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    later = datetime.now(UTC) + timedelta(hours=1)
    await store.collection.update_one({"_id": nid}, {"$set": {"next_attempt_at": later}})
    sender = RecordingSender()
    worker = _worker(store, people, sender)
    assert await worker.run_once(nid) is False
    assert (await store.get(nid))["state"] == "pending" and sender.sent == []

    await store.collection.update_one(
        {"_id": nid}, {"$set": {"next_attempt_at": datetime.now(UTC)}}
    )
    assert await worker.run_once(nid) is True
    assert await worker.run_once(nid) is False  # sent: never again
    assert [m.delivery_id for m in sender.sent] == [nid]


async def _abandoned_claim(store: NotificationStore, nid: str, me: str, age: timedelta) -> None:
    """What a worker leaves when it dies (or loses the store) between its two writes."""
    await store.claims.insert_one(
        {
            "_id": f"{nid}#1",
            "notification_id": nid,
            "person_id": me,
            "owner": "dead-worker",
            "claimed_at": datetime.now(UTC) - age,
        }
    )


async def test_a_claim_abandoned_before_the_delivery_was_marked_does_not_block_it(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    await _abandoned_claim(store, nid, me, age=timedelta(minutes=5))
    sender = RecordingSender()
    assert await _worker(store, people, sender, lease=timedelta(seconds=60)).run_once(nid)
    doc = await store.get(nid)
    assert doc["state"] == "sent" and doc["attempts"] == 2
    assert [m.delivery_id for m in sender.sent] == [nid]


async def test_a_fresh_claim_of_another_worker_is_respected(stores, run_id):
    store, people = stores
    me = f"p-{run_id}"
    await _person(people, me)
    [nid] = await _queue(store, me, 1)
    await _abandoned_claim(store, nid, me, age=timedelta(seconds=1))
    sender = RecordingSender()
    assert not await _worker(store, people, sender, lease=timedelta(seconds=60)).run_once(nid)
    assert (await store.get(nid))["state"] == "pending" and sender.sent == []
