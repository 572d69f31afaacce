"""The outbox relay: publishes events stored inside aggregate documents.

Each aggregate document carries `outbox: [entry, …]` written in the same
single-document update as the state change. The writer then tells the relay the
document's `_id` (`notify`); the relay claims that document with a short lease by
`_id` (so several replicas never publish the same document at once and per-key
order holds), publishes its entries in order with the idempotent producer
(documents concurrently), then `$pullAll`s exactly the published entries. A crash
between publish and pull only re-publishes; consumers dedupe by `ce_id`.

Documents nobody named (a replica crashed after its write, a publish failed, the
lease of a dead relay ran out) are found by a sweep that queries the outbox
itself. The sweep is rare on purpose: on a store without secondary-index use
(FerretDB) that query scans the whole collection, while a claim by `_id` is a
point lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
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
    sweep_every: float = 10.0
    """Seconds between sweeps for documents no `notify` named."""
    coalesce: float = 0.005
    """Seconds to gather more hints after a wake, so a burst is claimed and published together."""
    batch_size: int = 100
    service: str = ""
    """Label of this relay's metrics."""
    published: int = 0
    last_backlog: int | None = None
    """Documents with unpublished events that the last sweep found."""
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sweep_due = True
        self._by_name = {c.name: c for c in self.collections}
        self._hints: dict[str, set[object]] = {c.name: set() for c in self.collections}

    def notify(self, doc_id: object | None = None, *, collection: str | None = None) -> None:
        """A write just queued entries in document `doc_id`: publish it without waiting.

        `collection` defaults to the relay's first. Without an id, sweep every
        collection now.
        """
        if doc_id is None:
            self._sweep_due = True
        else:
            self._hints[collection or self.collections[0].name].add(doc_id)
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish what is in hand, publish every named document and sweep once, and stop."""
        self._stopping = True
        self._sweep_due = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> int:
        """Publish everything pending now; returns how many entries were published."""
        total = await self._relay_hinted()
        for collection in self.collections:
            while True:
                done, _ = await self._sweep_batch(collection)
                if done < 0:
                    break
                total += done
        return total

    async def backlog(self) -> int:
        total = 0
        for collection in self.collections:
            total += await collection.count_documents({"outbox.0": {"$exists": True}})
        return total

    def _has_work(self) -> bool:
        return self._sweep_due or any(self._hints.values())

    async def _run(self) -> None:
        swept_at = float("-inf")
        while True:
            failed = False
            try:
                await self._relay_hinted()
                if self._sweep_due or time.monotonic() - swept_at >= self.sweep_every:
                    self._sweep_due = False
                    swept_at = time.monotonic()
                    await self._sweep()
            except TRANSIENT_STORE_ERRORS as exc:
                failed = True
                log.warning("outbox relay: store unavailable, retrying: %s", exc)
            except Exception:
                # A broker outage or anything else: keep the entries, try again later.
                failed = True
                log.exception("outbox relay: publish failed, will retry")
            if self._stopping and (failed or not self._has_work()):
                return
            if failed:
                self._sweep_due = True
                await asyncio.sleep(1.0)
            self._wake.clear()
            if not self._has_work():
                wait = max(0.0, swept_at + self.sweep_every - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
            if not self._stopping:
                await asyncio.sleep(self.coalesce)

    async def _relay_hinted(self) -> int:
        """Publish the documents `notify` named, claimed by `_id`."""
        total = 0
        while any(self._hints.values()):
            for name, ids in self._hints.items():
                batch = [ids.pop() for _ in range(min(len(ids), self.batch_size))]
                if not batch:
                    continue
                try:
                    total += await self._relay_ids(self._by_name[name], batch)
                except BaseException:
                    ids.update(batch)  # their entries wait for the next round
                    raise
        return total

    async def _sweep(self) -> None:
        """Publish whatever no hint named; measures the backlog on the way."""
        backlog = 0
        for collection in self.collections:
            first = True
            while True:
                done, found = await self._sweep_batch(collection)
                if first:
                    # A full first batch says little about the rest: count them.
                    backlog += (
                        found
                        if found < self.batch_size
                        else await collection.count_documents({"outbox.0": {"$exists": True}})
                    )
                    first = False
                if done < 0:
                    break
        self.last_backlog = backlog
        OUTBOX_BACKLOG.labels(self.service).set(backlog)

    def _unclaimed(self, now: datetime) -> Document:
        return {
            "outbox.0": {"$exists": True},
            "$or": [{LEASE_FIELD: {"$exists": False}}, {f"{LEASE_FIELD}.until": {"$lt": now}}],
        }

    async def _sweep_batch(self, collection: AsyncCollection[Document]) -> tuple[int, int]:
        """One batch of the sweep: (entries published or -1 when none pending, documents found)."""
        found = (
            await collection.find(self._unclaimed(utc_now()), {"_id": 1})
            .limit(self.batch_size)
            .to_list()
        )
        if not found:
            return -1, 0
        return await self._relay_ids(collection, [d["_id"] for d in found]), len(found)

    async def _relay_ids(self, collection: AsyncCollection[Document], ids: Sequence[object]) -> int:
        """Claim the documents by `_id`, publish each one's entries in order, and pull them.

        Returns the number of entries published. Documents without pending entries,
        or leased by another relay, are skipped. Each claim is one atomic
        find-and-modify of a single document, so two relays never hold the same one.
        """
        now = utc_now()
        lease = {"$set": {LEASE_FIELD: {"owner": self.owner, "until": now + self.lease}}}
        docs = await asyncio.gather(
            *(
                collection.find_one_and_update(
                    {"_id": doc_id, **self._unclaimed(now)},
                    lease,
                    return_document=ReturnDocument.AFTER,
                )
                for doc_id in ids
            )
        )
        claimed = [doc for doc in docs if doc is not None]
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._publish_in_order(d) for d in claimed))
        # `$pullAll` of the entries exactly as read back: FerretDB 1.x silently ignores
        # `$pull` with a condition (`{"id": {"$in": ...}}`), which would re-publish forever.
        # One update command per document: multi-statement `update` commands are where
        # FerretDB 1.24 was seen to stop answering for good under load.
        await asyncio.gather(
            *(
                collection.update_one(
                    {"_id": doc["_id"], f"{LEASE_FIELD}.owner": self.owner},
                    {"$pullAll": {"outbox": published}, "$unset": {LEASE_FIELD: ""}},
                )
                for doc, (published, _) in zip(claimed, outcomes, strict=True)
            )
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
