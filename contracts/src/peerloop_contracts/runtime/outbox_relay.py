"""The outbox relay: publishes events stored inside aggregate documents.

Each aggregate document carries `outbox: [entry, …]` written in the same
single-document update as the state change. The relay claims a batch of documents
with a short lease (so several replicas never publish the same document at once
and per-key order holds), publishes each document's entries in order with the
idempotent producer (documents concurrently), then `$pullAll`s exactly the
published entries. A crash between publish and pull only re-publishes;
consumers dedupe by `ce_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_contracts.envelope import utc_now
from peerloop_contracts.outbox import OutboxEntry
from peerloop_contracts.runtime.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
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
    idle_poll: float = 2.0
    coalesce: float = 0.1
    """Seconds to gather more writes after a wake, so a burst costs one claim query, not many."""
    """Seconds between sweeps when nothing woke the relay (leftovers, other replicas)."""
    batch_size: int = 100
    service: str = ""
    """Label of this relay's metrics."""
    backlog_every: float = 10.0
    """Seconds between backlog measurements (a count query per collection)."""
    published: int = 0
    last_backlog: int | None = None
    """Documents with unpublished events at the last measurement."""
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
                done = await self._relay_batch(collection)
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
        measured = 0.0
        while True:
            try:
                await self.drain()
                if time.monotonic() - measured >= self.backlog_every:
                    self.last_backlog = await self.backlog()
                    OUTBOX_BACKLOG.labels(self.service).set(self.last_backlog)
                    measured = time.monotonic()
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
            if not self._stopping:
                await asyncio.sleep(self.coalesce)

    async def _relay_batch(self, collection: AsyncCollection[Document]) -> int:
        """Claim up to `batch_size` documents with pending entries and publish them.

        Returns the number of entries published, or -1 when nothing was pending.
        Documents are published concurrently, each one's entries strictly in order.
        """
        now = utc_now()
        unclaimed: Document = {
            "outbox.0": {"$exists": True},
            "$or": [{LEASE_FIELD: {"$exists": False}}, {f"{LEASE_FIELD}.until": {"$lt": now}}],
        }
        pending = await collection.find(unclaimed).limit(self.batch_size).to_list()
        if not pending:
            return -1
        # Each document's claim is atomic on MongoDB (the filter is re-checked per
        # document), so two replicas never hold the same document.
        await collection.update_many(
            {"_id": {"$in": [d["_id"] for d in pending]}, **unclaimed},
            {"$set": {LEASE_FIELD: {"owner": self.owner, "until": now + self.lease}}},
        )
        claimed = await collection.find(
            {"_id": {"$in": [d["_id"] for d in pending]}, f"{LEASE_FIELD}.owner": self.owner}
        ).to_list()
        outcomes = await asyncio.gather(*(self._publish_in_order(d) for d in claimed))
        # `$pullAll` of the entries exactly as read back: FerretDB 1.x silently ignores
        # `$pull` with a condition (`{"id": {"$in": ...}}`), which would re-publish forever.
        await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], f"{LEASE_FIELD}.owner": self.owner},
                    {"$pullAll": {"outbox": published}, "$unset": {LEASE_FIELD: ""}},
                )
                for doc, (published, _) in zip(claimed, outcomes, strict=True)
            ],
            ordered=False,
        )
        count = sum(len(published) for published, _ in outcomes)
        self.published += count
        failures = [error for _, error in outcomes if error is not None]
        if failures:
            raise failures[0]
        return count

    async def _publish_in_order(self, doc: Document) -> tuple[list[Document], BaseException | None]:
        published: list[Document] = []
        for raw in doc.get("outbox", []):
            entry = OutboxEntry.model_validate(raw)
            try:
                await self.publish(entry)
            except Exception as exc:
                # Later entries of this aggregate wait, so its order holds.
                return published, exc
            published.append(raw)
            EVENTS_PUBLISHED.labels(self.service, entry.topic).inc()
        return published, None
