"""The outbox relay: publishes events stored inside aggregate documents.

Each aggregate document carries `outbox: [entry, …]` written in the same
single-document update as the state change. The writer then tells the relay the
document's `_id` (`notify`); the relay claims that document (so several replicas
never publish the same document at once and per-key order holds), reads it by
`_id`, publishes its entries in order with the idempotent producer (documents
concurrently), `$pullAll`s exactly the published entries, and lets the claim go.
A batch of documents costs one store round trip for its claims (an unordered
`insert_many`), one for its pulls and one for its releases (`bulk_write`s whose
every operation is still filtered on `_id`); only the reads are per document.
A crash between publish and pull only re-publishes; consumers dedupe by `ce_id`.

An entry the broker refuses for good (too large, invalid: `publish` answers
`DeadLettered` instead of raising) is settled like a published one: it went to its
topic's dead-letter twin, `peerloop_outbox_dead_lettered_total` counts it, and the
aggregate's later entries go on. Any other failure keeps the entry and stops its
aggregate's later entries until the next attempt, so per-key order holds.

A claim is a small document in a collection of its own (`<collection>_outbox_claims`),
inserted with the aggregate's `_id` as its own: the store's unique `_id` decides
who holds it, and a claim whose relay died runs out after `lease`. Claims live
apart from the aggregates because every filter here can then be `_id` alone: on
the local store a point lookup or update by `_id` alone is served by the index,
one with any further condition scans (see deploy/local/mongo-java-server/FEATURES.md).

Documents nobody named (a replica crashed after its write, a publish failed, a
claim ran out) are found by a sweep that queries the outbox itself. The sweep is
rare on purpose: on a store without secondary-index use (the local store) that
query scans the whole collection.
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

from peerloop_contracts.envelope import utc_now
from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from peerloop_runtime.metrics import (
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_DEAD_LETTERED,
)
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS, Document
from peerloop_runtime.outbox import OutboxEntry

log = logging.getLogger("peerloop.outbox")


@dataclass(frozen=True)
class DeadLettered:
    """`publish`'s answer for an entry the broker will never take, now on the dead-letter twin."""

    reason: str
    """A short code (a metric label): `too_large`, `invalid_record`."""
    detail: str


Publish = Callable[[OutboxEntry], Awaitable[DeadLettered | None]]
"""Publish one entry: None once the broker has it, `DeadLettered` when it went to the
dead-letter twin instead; raises when it should be tried again later."""

PENDING: Document = {"outbox.0": {"$exists": True}}

_DUPLICATE_KEY = 11000


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
    """Entries settled: published, or dead-lettered (counted in `dead_lettered` too)."""
    dead_lettered: int = 0
    last_backlog: int | None = None
    """Documents with unpublished events that the last sweep found."""
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sweep_due = True
        self._by_name = {c.name: c for c in self.collections}
        self._claims = {c.name: c.database[claims_collection(c.name)] for c in self.collections}
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
        """Publish everything pending now; returns how many entries were settled."""
        total = await self._relay_hinted()
        for collection in self.collections:
            more = True
            while more:
                done, _, more = await self._sweep_batch(collection)
                total += done
        return total

    async def backlog(self) -> int:
        total = 0
        for collection in self.collections:
            total += await collection.count_documents(PENDING)
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
                    total += (await self._relay_ids(self._by_name[name], batch))[0]
                except BaseException:
                    ids.update(batch)  # their entries wait for the next round
                    raise
        return total

    async def _sweep(self) -> None:
        """Publish whatever no hint named; measures the backlog on the way."""
        backlog = 0
        for collection in self.collections:
            first, more = True, True
            while more:
                _, found, more = await self._sweep_batch(collection)
                if first:
                    # A full first batch says little about the rest: count them.
                    backlog += (
                        found
                        if found < self.batch_size
                        else await collection.count_documents(PENDING)
                    )
                    first = False
        self.last_backlog = backlog
        OUTBOX_BACKLOG.labels(self.service).set(backlog)

    async def _sweep_batch(self, collection: AsyncCollection[Document]) -> tuple[int, int, bool]:
        """One batch of the sweep: entries published, documents found pending, and whether
        another batch may do more (not if none was found, or all were claimed by others)."""
        found = await collection.find(PENDING, {"_id": 1}).limit(self.batch_size).to_list()
        if not found:
            return 0, 0, False
        published, held = await self._relay_ids(collection, [d["_id"] for d in found])
        return published, len(found), held > 0

    async def _relay_ids(
        self, collection: AsyncCollection[Document], ids: Sequence[object]
    ) -> tuple[int, int]:
        """Claim the documents, publish each one's entries in order, pull them, let go.

        Returns the entries published and the documents claimed. Documents claimed by
        another relay, or without pending entries, are skipped.
        """
        claims = self._claims[collection.name]
        now = utc_now()
        held = await self._claim_many(claims, ids, now)
        if not held:
            return 0, 0
        try:
            docs = await asyncio.gather(
                *(collection.find_one({"_id": doc_id}, {"outbox": 1}) for doc_id in held)
            )
            pending = [doc for doc in docs if doc is not None and doc.get("outbox")]
            outcomes = await asyncio.gather(*(self._publish_in_order(d) for d in pending))
            # `$pullAll` of the entries exactly as read back: entries written meanwhile stay,
            # and a store that mishandled a conditional `$pull` would re-publish forever.
            # One `bulk_write` for the batch, each update still filtered on `_id` alone.
            pulls = [
                UpdateOne({"_id": doc["_id"]}, {"$pullAll": {"outbox": published}})
                for doc, (published, _) in zip(pending, outcomes, strict=True)
                if published
            ]
            if pulls:
                await collection.bulk_write(pulls, ordered=False)
        finally:
            await self._release(claims, held)
        count = sum(len(published) for published, _ in outcomes)
        self.published += count
        failures = [error for _, error in outcomes if error is not None]
        if failures:
            raise failures[0]
        return count, len(held)

    async def _claim_many(
        self, claims: AsyncCollection[Document], ids: Sequence[object], now: datetime
    ) -> list[object]:
        """Claim the documents in one unordered insert; those held already go one by one.

        The store's unique `_id` decides each claim, as with single inserts: a duplicate
        is another relay's claim, live or lapsed (`_claim` tells which).
        """
        if not ids:
            return []
        until = now + self.lease
        taken: set[int] = set()
        try:
            await claims.insert_many(
                [{"_id": doc_id, "owner": self.owner, "until": until} for doc_id in ids],
                ordered=False,
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                # Some claims may have been written: release ours so nothing waits a lease.
                await self._release(claims, ids)
                raise
            taken = {int(e["index"]) for e in errors}
        held = [doc_id for i, doc_id in enumerate(ids) if i not in taken]
        retried = [ids[i] for i in sorted(taken)]
        won = await asyncio.gather(*(self._take_lapsed(claims, doc_id, now) for doc_id in retried))
        return held + [doc_id for doc_id, ok in zip(retried, won, strict=True) if ok]

    async def _claim(
        self, claims: AsyncCollection[Document], doc_id: object, now: datetime
    ) -> bool:
        claim = {"_id": doc_id, "owner": self.owner, "until": now + self.lease}
        try:
            await claims.insert_one(dict(claim))
            return True
        except DuplicateKeyError:
            pass
        return await self._take_lapsed(claims, doc_id, now)

    async def _take_lapsed(
        self, claims: AsyncCollection[Document], doc_id: object, now: datetime
    ) -> bool:
        """Take over a claim only if its lease ran out (its relay died holding it)."""
        claim = {"_id": doc_id, "owner": self.owner, "until": now + self.lease}
        lapsed = await claims.delete_one({"_id": doc_id, "until": {"$lt": now}})
        if lapsed.deleted_count == 0:
            return False
        try:
            await claims.insert_one(dict(claim))
            return True
        except DuplicateKeyError:
            return False  # another relay took the lapsed claim first

    async def _release(self, claims: AsyncCollection[Document], held: Sequence[object]) -> None:
        if not held:
            return
        try:
            # Only our own claims: `owner` in each filter (with `_id` first, still a point lookup).
            await claims.bulk_write(
                [DeleteOne({"_id": doc_id, "owner": self.owner}) for doc_id in held],
                ordered=False,
            )
        except Exception as exc:
            # The claims run out on their own; until then the sweep skips these documents.
            log.warning("outbox relay: could not release %d claim(s): %s", len(held), exc)

    async def _publish_in_order(self, doc: Document) -> tuple[list[Document], BaseException | None]:
        """Publish the entries in order; returns those settled, and the failure that stopped it."""
        settled: list[Document] = []
        for raw in doc.get("outbox", []):
            entry = OutboxEntry.model_validate(raw)
            try:
                refused = await self.publish(entry)
            except Exception as exc:
                # Later entries of this aggregate wait, so its order holds.
                return settled, exc
            settled.append(raw)
            if refused is None:
                EVENTS_PUBLISHED.labels(self.service, entry.topic).inc()
                continue
            self.dead_lettered += 1
            OUTBOX_DEAD_LETTERED.labels(self.service, entry.topic, refused.reason).inc()
            log.error(
                "outbox relay: %s %s refused by the broker for good (%s: %s); "
                "dead-lettered, the aggregate's later events go on",
                entry.topic,
                entry.id,
                refused.reason,
                refused.detail,
            )
        return settled, None


def claims_collection(collection: str) -> str:
    """Where the relays of `collection` hold their claims, in the same database."""
    return f"{collection}_outbox_claims"
