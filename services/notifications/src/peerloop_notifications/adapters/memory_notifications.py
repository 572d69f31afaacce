"""An in-memory notification store with the contract of the Mongo one (for unit tests).

It keeps the same documents (`adapters.documents`) and makes every move through
the domain's delivery transitions. Where the Mongo store needs two round trips
(insert the attempt's claim, then update the document) it yields to the event
loop in between, so racing workers interleave there as they can on the real store.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import OutboxEntry

from peerloop_notifications.adapters.documents import delivery_fields, from_document, to_document
from peerloop_notifications.adapters.notification_store import CANDIDATES, STALE_CLAIMS_SKIPPED
from peerloop_notifications.application.ports import InboxPage
from peerloop_notifications.domain.delivery import Delivery, DeliveryState, InvalidTransitionError
from peerloop_notifications.domain.kinds import OUTBOUND_CHANNELS
from peerloop_notifications.domain.notification import Notification


@dataclass
class InMemoryNotificationStore:
    docs: dict[str, Document] = field(default_factory=dict)
    claims: dict[str, Document] = field(default_factory=dict)
    round_trips: int = 0
    """Writes of new notifications (one per `insert`, one per `insert_many`)."""

    async def insert(self, notification: Notification) -> bool:
        self.round_trips += 1
        return self._insert(notification)

    def _insert(self, notification: Notification) -> bool:
        if notification.id in self.docs:
            return False
        self.docs[notification.id] = to_document(notification)
        return True

    async def insert_many(self, notifications: Sequence[Notification]) -> list[bool]:
        if not notifications:
            return []
        self.round_trips += 1
        return [self._insert(n) for n in notifications]

    async def get(self, nid: str) -> Document | None:
        doc = self.docs.get(nid)
        return None if doc is None else copy.deepcopy(doc)

    # -- inbox -----------------------------------------------------------------

    def _visible(self, person_id: str, now: datetime) -> list[Document]:
        return [
            d
            for d in self.docs.values()
            if d["person_id"] == person_id and d["channel"] == "inbox" and d["visible_at"] <= now
        ]

    async def inbox_page(
        self, person_id: str, now: datetime, *, offset: int, limit: int
    ) -> InboxPage:
        visible = sorted(self._visible(person_id, now), key=lambda d: d["_id"])
        visible.sort(key=lambda d: d["visible_at"], reverse=True)
        visible.sort(key=lambda d: bool(d.get("read", False)))
        return InboxPage(
            items=[from_document(d) for d in visible[offset : offset + limit]],
            total=len(visible),
            unread=await self.unread_count(person_id, now),
        )

    async def unread_count(self, person_id: str, now: datetime) -> int:
        return sum(not d.get("read", False) for d in self._visible(person_id, now))

    async def mark_read(self, person_id: str, nid: str, now: datetime) -> Notification | None:
        for doc in self._visible(person_id, now):
            if doc["_id"] == nid:
                if not doc.get("read", False):
                    doc |= {"read": True, "read_at": now}
                return from_document(doc)
        return None

    async def mark_all_read(self, person_id: str, now: datetime) -> int:
        unread = [d for d in self._visible(person_id, now) if not d.get("read", False)]
        for doc in unread:
            doc |= {"read": True, "read_at": now}
        return len(unread)

    async def inbox_since(
        self, person_ids: Collection[str], since: datetime, now: datetime
    ) -> list[Notification]:
        found = [
            d
            for d in self.docs.values()
            if d["person_id"] in person_ids
            and d["channel"] == "inbox"
            and since <= d["visible_at"] <= now
        ]
        found.sort(key=lambda d: (d["visible_at"], d["_id"]))
        return [from_document(d) for d in found]

    async def cancel_pending(self, request_id: str, kind: str) -> int:
        doomed = [
            nid
            for nid, d in self.docs.items()
            if d.get("request_id") == request_id
            and d["kind"] == kind
            and d.get("state") == DeliveryState.PENDING
        ]
        for nid in doomed:
            del self.docs[nid]
        return len(doomed)

    # -- outbound deliveries ------------------------------------------------------

    async def deliveries(self, person_id: str, *, limit: int) -> list[Notification]:
        mine = [
            d
            for d in self.docs.values()
            if d["person_id"] == person_id and d["channel"] in OUTBOUND_CHANNELS
        ]
        mine.sort(key=lambda d: d["_id"])
        mine.sort(key=lambda d: d["created_at"], reverse=True)
        return [from_document(d) for d in mine[:limit]]

    async def claim(
        self, nid: str, owner: str, now: datetime, lease: timedelta
    ) -> Notification | None:
        doc = self.docs.get(nid)
        if doc is None or not _due(doc, now):
            return None
        return await self._claim(copy.deepcopy(doc), owner, now, lease)

    async def claim_next(self, owner: str, now: datetime, lease: timedelta) -> Notification | None:
        due = sorted(
            (copy.deepcopy(d) for d in self.docs.values() if _due(d, now)),
            key=lambda d: (d["next_attempt_at"], d["_id"]),
        )
        for doc in due[:CANDIDATES]:
            claimed = await self._claim(doc, owner, now, lease)
            if claimed is not None:
                return claimed
        return None

    async def claim_digest_batch(
        self, first: Notification, owner: str, now: datetime, lease: timedelta
    ) -> list[Notification]:
        siblings = sorted(
            (
                copy.deepcopy(d)
                for d in self.docs.values()
                if d["_id"] != first.id
                and d["person_id"] == first.person_id
                and d["channel"] == "email"
                and d.get("digest")
                and d.get("state") == DeliveryState.PENDING
                and _due(d, now)
            ),
            key=lambda d: (d["created_at"], d["_id"]),
        )
        batch = [first]
        for doc in siblings:
            claimed = await self._claim(doc, owner, now, lease)
            if claimed is not None:
                batch.append(claimed)
        return batch

    async def _claim(
        self, read: Document, owner: str, now: datetime, lease: timedelta
    ) -> Notification | None:
        """As the Mongo store: insert the unique claim `<id>#<n>`, then update the document
        only if its attempts are still those read."""
        attempt = int(read.get("attempts", 0)) + 1
        for _ in range(STALE_CLAIMS_SKIPPED):
            key = f"{read['_id']}#{attempt}"
            taken = self.claims.get(key)
            if taken is None:
                self.claims[key] = {
                    "_id": key,
                    "notification_id": read["_id"],
                    "person_id": read["person_id"],
                    "owner": owner,
                    "claimed_at": now,
                }
                break
            if taken["claimed_at"] + lease > now:
                return None  # another worker holds it
            attempt += 1
        else:
            return None
        await asyncio.sleep(0)  # the second round trip
        doc = self.docs.get(read["_id"])
        if doc is None or doc.get("attempts", 0) != read.get("attempts", 0):
            return None
        current = from_document(doc)
        assert current.delivery is not None
        try:
            claimed = current.delivery.claimed(owner, now, lease, attempt=attempt)
        except InvalidTransitionError:
            return None
        self._write(doc, claimed)
        return from_document(doc)

    def _write(self, doc: Document, delivery: Delivery) -> None:
        doc.pop("lease", None)
        doc |= delivery_fields(delivery)

    def _settle(self, nid: str, owner: str, move: str, *args: object) -> Document | None:
        doc = self.docs.get(nid)
        if doc is None:
            return None
        delivery = from_document(doc).delivery
        if delivery is None or not delivery.held_by(owner):
            return None
        self._write(doc, getattr(delivery, move)(owner, *args))
        return doc

    async def mark_sent(self, nid: str, owner: str, now: datetime, event: OutboxEntry) -> bool:
        doc = self._settle(nid, owner, "sent", now)
        if doc is not None:
            doc.setdefault("outbox", []).append(event.to_document())
        return doc is not None

    async def reschedule(self, nid: str, owner: str, at: datetime, error: str) -> bool:
        return self._settle(nid, owner, "rescheduled", at, error) is not None

    async def mark_failed(
        self, nid: str, owner: str, now: datetime, error: str, event: OutboxEntry
    ) -> bool:
        doc = self._settle(nid, owner, "failed", now, error)
        if doc is not None:
            doc.setdefault("outbox", []).append(event.to_document())
        return doc is not None

    async def mark_skipped(self, nid: str, owner: str, now: datetime, reason: str) -> bool:
        return self._settle(nid, owner, "skipped", now, reason) is not None

    async def discard(self, nid: str) -> None:
        self.docs.pop(nid, None)

    async def forget_person(self, person_id: str) -> int:
        self.claims = {k: c for k, c in self.claims.items() if c["person_id"] != person_id}
        doomed = [nid for nid, d in self.docs.items() if d["person_id"] == person_id]
        for nid in doomed:
            del self.docs[nid]
        return len(doomed)

    async def forget_mentions(self, person_id: str) -> int:
        redacted = 0
        for doc in self.docs.values():
            if not any(m["person"] == person_id for m in doc.get("mentions", [])):
                continue
            forgotten = from_document(doc).forget(person_id)
            doc |= {"subject": forgotten.subject, "body": forgotten.body}
            doc["mentions"] = [m for m in doc["mentions"] if m["person"] != person_id]
            doc.pop("calendar", None)
            redacted += 1
        return redacted

    def outbox_topics(self, nid: str) -> list[str]:
        return [entry["topic"] for entry in self.docs[nid].get("outbox", [])]


def _due(doc: Document, now: datetime) -> bool:
    delivery = from_document(doc).delivery
    return delivery is not None and delivery.is_due(now)
