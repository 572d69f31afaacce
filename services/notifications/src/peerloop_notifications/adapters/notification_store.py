"""Notification documents: the inbox and the outbound delivery queue in one collection.

One document per (recipient, source event `ce_id`, channel, kind); its `_id` is
built from those, so a redelivered event finds its notification already there.
Outbound documents (e-mail, webhook) move as `domain.delivery` says; the
`sending` mark carries a lease so a worker that died mid-send is taken over once
the lease ends. Events about a notification ride in the document's `outbox`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import OutboxEntry
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from peerloop_notifications.adapters.documents import from_document, to_document
from peerloop_notifications.application.ports import InboxPage
from peerloop_notifications.domain.delivery import DeliveryState
from peerloop_notifications.domain.kinds import OUTBOUND_CHANNELS
from peerloop_notifications.domain.notification import Notification, notification_id

__all__ = ["InboxPage", "NotificationStore", "notification_id"]

PENDING, SENDING, SENT, FAILED, SKIPPED = (s.value for s in DeliveryState)

_DUPLICATE_KEY = 11000

CANDIDATES = 16
"""Due deliveries looked at per claim; enough that a few workers rarely all chase one."""
STALE_CLAIMS_SKIPPED = 10
"""Abandoned claims stepped over before a delivery is left for the next sweep."""


def is_due(doc: Document, now: datetime) -> bool:
    """The filter of `claim_next`, for one document already in hand."""
    delivery = from_document(doc).delivery
    return delivery is not None and delivery.is_due(now)


@dataclass
class NotificationStore:
    collection: AsyncCollection[Document]
    claims: AsyncCollection[Document]
    """One document per delivery attempt: whoever inserted it makes that attempt."""

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [
                ("person_id", ASCENDING),
                ("source_event_id", ASCENDING),
                ("channel", ASCENDING),
                ("kind", ASCENDING),
            ],
            unique=True,
            name="one_per_recipient_event_channel_kind",
        )
        await self.collection.create_index(
            [
                ("person_id", ASCENDING),
                ("channel", ASCENDING),
                ("read", ASCENDING),
                ("visible_at", DESCENDING),
            ],
            name="inbox",
        )
        await self.collection.create_index(
            [("request_id", ASCENDING)], sparse=True, name="by_request"
        )
        await self.collection.create_index(
            [("state", ASCENDING), ("next_attempt_at", ASCENDING)], name="delivery_queue"
        )
        await self.claims.create_index([("person_id", ASCENDING)], name="claims_by_person")

    async def insert(self, notification: Notification) -> bool:
        """Store a new notification; False when it exists already (a redelivered event)."""
        try:
            await self.collection.insert_one(to_document(notification))
        except DuplicateKeyError:
            return False
        return True

    async def insert_many(self, notifications: Sequence[Notification]) -> list[bool]:
        """Store new notifications in one round trip; per document, False when it existed.

        Unordered: a duplicate (a redelivered event) does not stop the others. Any
        other write error is raised, after the documents that could be written were.
        """
        docs = [to_document(n) for n in notifications]
        if not docs:
            return []
        written = [True] * len(docs)
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            other = [e for e in errors if e.get("code") != _DUPLICATE_KEY]
            if other or not errors:
                raise
            for error in errors:
                written[error["index"]] = False
        return written

    # -- inbox -----------------------------------------------------------------

    def _inbox(self, person_id: str, now: datetime, **extra: Any) -> Document:
        """The person's inbox as of `now`: reminders are hidden until their time."""
        return {
            "person_id": person_id,
            "channel": "inbox",
            "visible_at": {"$lte": now},
            **extra,
        }

    async def inbox_page(
        self, person_id: str, now: datetime, *, offset: int, limit: int
    ) -> InboxPage:
        visible = self._inbox(person_id, now)
        cursor = (
            self.collection.find(visible, projection={"outbox": 0})
            .sort([("read", ASCENDING), ("visible_at", DESCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        items = [from_document(doc) async for doc in cursor]
        total = await self.collection.count_documents(visible)
        return InboxPage(items=items, total=total, unread=await self.unread_count(person_id, now))

    async def unread_count(self, person_id: str, now: datetime) -> int:
        return await self.collection.count_documents(self._inbox(person_id, now, read=False))

    async def mark_read(self, person_id: str, nid: str, now: datetime) -> Notification | None:
        # Only an unread item gets a read time, so reading twice keeps the first one.
        await self.collection.update_one(
            self._inbox(person_id, now, _id=nid, read=False),
            {"$set": {"read": True, "read_at": now}},
        )
        doc = await self.collection.find_one(
            self._inbox(person_id, now, _id=nid), projection={"outbox": 0}
        )
        return None if doc is None else from_document(doc)

    async def mark_all_read(self, person_id: str, now: datetime) -> int:
        result = await self.collection.update_many(
            self._inbox(person_id, now, read=False), {"$set": {"read": True, "read_at": now}}
        )
        return result.modified_count

    async def inbox_since(
        self, person_ids: Collection[str], since: datetime, now: datetime
    ) -> list[Notification]:
        """Items of these people that became visible in [since, now], in the order they did."""
        cursor = self.collection.find(
            {
                "person_id": {"$in": sorted(person_ids)},
                "channel": "inbox",
                "visible_at": {"$gte": since, "$lte": now},
            },
            projection={"outbox": 0},
        ).sort([("visible_at", ASCENDING), ("_id", ASCENDING)])
        return [from_document(doc) async for doc in cursor]

    async def cancel_pending(self, request_id: str, kind: str) -> int:
        """Drop notifications of a request not yet out (reminders of a cancelled request)."""
        result = await self.collection.delete_many(
            {"request_id": request_id, "kind": kind, "state": PENDING}
        )
        return result.deleted_count

    # -- outbound deliveries ------------------------------------------------------

    async def deliveries(self, person_id: str, *, limit: int) -> list[Notification]:
        cursor = (
            self.collection.find(
                {"person_id": person_id, "channel": {"$in": list(OUTBOUND_CHANNELS)}},
                projection={"outbox": 0, "lease": 0},
            )
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [from_document(doc) async for doc in cursor]

    async def get(self, nid: str) -> Document | None:
        """The stored document as it is (for inspection; the use cases read through claims)."""
        return await self.collection.find_one({"_id": nid}, projection={"outbox": 0})

    async def claim(
        self, nid: str, owner: str, now: datetime, lease: timedelta
    ) -> Notification | None:
        """Take delivery `nid` if it is due (a point lookup by `_id`), else None."""
        doc = await self.collection.find_one({"_id": nid})
        if doc is None or not is_due(doc, now):
            return None
        return await self._claim(doc, owner, now, lease)

    async def claim_next(self, owner: str, now: datetime, lease: timedelta) -> Notification | None:
        """Take the most overdue delivery, or one whose sender's lease ran out."""
        due = self.collection.find(
            {
                "$or": [
                    {"state": PENDING, "next_attempt_at": {"$lte": now}},
                    {"state": SENDING, "lease.until": {"$lt": now}},
                ]
            }
        ).sort([("next_attempt_at", ASCENDING), ("_id", ASCENDING)])
        async for doc in due.limit(CANDIDATES):
            # A later batch of a cursor can carry a document as it is now, claimed by
            # another worker since the query matched it (the local store does not match
            # again): decide on the document in hand.
            if not is_due(doc, now):
                continue
            claimed = await self._claim(doc, owner, now, lease)
            if claimed is not None:
                return claimed
        return None

    async def claim_digest_batch(
        self, first: Notification, owner: str, now: datetime, lease: timedelta
    ) -> list[Notification]:
        """`first` and the other digest e-mails of the same person that are due."""
        siblings = self.collection.find(
            {
                "_id": {"$ne": first.id},
                "person_id": first.person_id,
                "channel": "email",
                "digest": True,
                "state": PENDING,
                "next_attempt_at": {"$lte": now},
            }
        ).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        batch = [first]
        async for doc in siblings:
            if doc.get("state") != PENDING or not is_due(doc, now):
                continue  # claimed by someone else since the query (see claim_next)
            claimed = await self._claim(doc, owner, now, lease)
            if claimed is not None:
                batch.append(claimed)
        return batch

    async def _claim(
        self, doc: Document, owner: str, now: datetime, lease: timedelta
    ) -> Notification | None:
        """Win attempt n+1 of a delivery, or None when another worker won it.

        The right to make attempt n+1 is an insert of `<id>#<n+1>`: a unique
        insert is atomic on every store, so exactly one worker gets it. Only that worker then
        writes the document, so its update below has no competitor.

        A claim whose holder never wrote the document (it crashed, or the store
        went away between the two writes) would block attempt n+1 for good; once
        it is older than a lease, the next number is claimed instead. That attempt
        counts as made, so such a delivery has one retry less.
        """
        attempt = int(doc.get("attempts", 0)) + 1
        for _ in range(STALE_CLAIMS_SKIPPED):
            try:
                await self.claims.insert_one(
                    {
                        "_id": f"{doc['_id']}#{attempt}",
                        "notification_id": doc["_id"],
                        "person_id": doc["person_id"],
                        "owner": owner,
                        "claimed_at": now,
                    }
                )
                break
            except DuplicateKeyError:
                taken = await self.claims.find_one({"_id": f"{doc['_id']}#{attempt}"})
                # Step over only a claim seen to be stale: one not (yet) readable is held.
                if taken is None or taken["claimed_at"] + lease > now:
                    return None  # another worker holds it
                attempt += 1
        else:
            return None
        held = {"owner": owner, "until": now + lease}
        result = await self.collection.update_one(
            {"_id": doc["_id"], "attempts": doc.get("attempts", 0)},
            {"$set": {"state": SENDING, "lease": held, "attempts": attempt}},
        )
        if result.modified_count != 1:
            return None
        return from_document({**doc, "state": SENDING, "lease": held, "attempts": attempt})

    def _held(self, nid: str, owner: str) -> Document:
        return {"_id": nid, "state": SENDING, "lease.owner": owner}

    async def mark_sent(self, nid: str, owner: str, now: datetime, event: OutboxEntry) -> bool:
        result = await self.collection.update_one(
            self._held(nid, owner),
            {
                "$set": {"state": SENT, "sent_at": now, "last_error": None},
                "$unset": {"lease": ""},
                "$push": {"outbox": event.to_document()},
            },
        )
        return result.modified_count == 1

    async def reschedule(self, nid: str, owner: str, at: datetime, error: str) -> bool:
        result = await self.collection.update_one(
            self._held(nid, owner),
            {
                "$set": {"state": PENDING, "next_attempt_at": at, "last_error": error},
                "$unset": {"lease": ""},
            },
        )
        return result.modified_count == 1

    async def mark_failed(
        self, nid: str, owner: str, now: datetime, error: str, event: OutboxEntry
    ) -> bool:
        result = await self.collection.update_one(
            self._held(nid, owner),
            {
                "$set": {"state": FAILED, "failed_at": now, "last_error": error},
                "$unset": {"lease": ""},
                "$push": {"outbox": event.to_document()},
            },
        )
        return result.modified_count == 1

    async def mark_skipped(self, nid: str, owner: str, now: datetime, reason: str) -> bool:
        result = await self.collection.update_one(
            self._held(nid, owner),
            {
                "$set": {"state": SKIPPED, "skipped_at": now, "last_error": reason},
                "$unset": {"lease": ""},
            },
        )
        return result.modified_count == 1

    async def discard(self, nid: str) -> None:
        await self.collection.delete_one({"_id": nid})

    async def forget_person(self, person_id: str) -> int:
        await self.claims.delete_many({"person_id": person_id})
        result = await self.collection.delete_many({"person_id": person_id})
        return result.deleted_count

    async def forget_mentions(self, person_id: str) -> int:
        """Each update is conditional on the document still naming the person: a
        concurrent or repeated erasure redacts nothing twice."""
        redacted = 0
        async for doc in self.collection.find(
            {"mentions.person": person_id}, projection={"outbox": 0}
        ):
            forgotten = from_document(doc).forget(person_id)
            result = await self.collection.update_one(
                {"_id": doc["_id"], "mentions.person": person_id},
                {
                    "$set": {"subject": forgotten.subject, "body": forgotten.body},
                    "$pull": {"mentions": {"person": person_id}},
                    # An invitation names them and carries their address: it goes whole.
                    "$unset": {"calendar": ""},
                },
            )
            redacted += result.modified_count
        return redacted
