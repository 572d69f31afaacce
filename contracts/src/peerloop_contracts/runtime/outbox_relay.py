"""The outbox relay: publishes events stored inside aggregate documents.

Each aggregate document carries `outbox: [entry, …]` written in the same
single-document update as the state change. The relay claims one document at a
time with a short lease (so several replicas never publish the same document at
once and per-key order holds), publishes its entries in order with the
idempotent producer, then `$pullAll`s exactly the published entries. A crash between
publish and pull only re-publishes; consumers dedupe by `ce_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_contracts.envelope import utc_now
from peerloop_contracts.outbox import OutboxEntry
from peerloop_contracts.runtime.mongo import TRANSIENT_STORE_ERRORS, Document

log = logging.getLogger("peerloop.outbox")

Publish = Callable[[OutboxEntry], Awaitable[None]]

LEASE_FIELD = "outbox_lease"


async def ensure_outbox_indexes(collection: AsyncCollection[Document]) -> None:
    await collection.create_index([("outbox.id", ASCENDING)], sparse=True, name="outbox_pending")


@dataclass
class OutboxRelay:
    collections: Sequence[AsyncCollection[Document]]
    publish: Publish
    lease: timedelta = timedelta(seconds=30)
    idle_poll: float = 0.5
    """Seconds between sweeps when nothing woke the relay (leftovers, other replicas)."""
    published: int = 0
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def notify(self) -> None:
        """Tell the relay a write just added entries, so it publishes without waiting."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the document in hand, drain what is pending, and stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> int:
        """Publish everything pending now; returns how many entries were published."""
        total = 0
        for collection in self.collections:
            while True:
                done = await self._relay_one(collection)
                if done < 0:
                    break
                total += done
        return total

    async def backlog(self) -> int:
        total = 0
        for collection in self.collections:
            total += await collection.count_documents({"outbox.0": {"$exists": True}})
        return total

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except TRANSIENT_STORE_ERRORS as exc:
                log.warning("outbox relay: store unavailable, retrying: %s", exc)
            except Exception:
                # A broker outage or anything else: keep the entries, try again later.
                log.exception("outbox relay: publish failed, will retry")
                await asyncio.sleep(1.0)
            if self._stopping:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll)

    async def _relay_one(self, collection: AsyncCollection[Document]) -> int:
        """Claim one document with pending entries; -1 when there is none."""
        now = utc_now()
        doc = await collection.find_one_and_update(
            {
                "outbox.0": {"$exists": True},
                "$or": [{LEASE_FIELD: {"$exists": False}}, {f"{LEASE_FIELD}.until": {"$lt": now}}],
            },
            {"$set": {LEASE_FIELD: {"owner": self.owner, "until": now + self.lease}}},
            # No projection: FerretDB does not implement findAndModify's `fields`.
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return -1
        stored: list[Document] = list(doc.get("outbox", []))
        published: list[Document] = []
        try:
            for raw in stored:
                await self.publish(OutboxEntry.model_validate(raw))
                published.append(raw)
        finally:
            # `$pullAll` of the entries exactly as read back: FerretDB 1.x ignores `$pull`
            # with a condition (`{"id": {"$in": ...}}`) silently, which would re-publish
            # the same entries forever.
            await collection.update_one(
                {"_id": doc["_id"], f"{LEASE_FIELD}.owner": self.owner},
                {"$pullAll": {"outbox": published}, "$unset": {LEASE_FIELD: ""}},
            )
        self.published += len(published)
        return len(published)
