"""The fact log in MongoDB: one document per applied batch, read back in write order.

A delta travels as one compressed JSON blob (times as microseconds since the epoch):
the store keeps and returns it whole, without turning thousands of fields into its own
form and back, which on the local store cost more than everything else together.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary
from peerloop_runtime.mongo import Document
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_insights.domain.facts import Facts, facts_from_doc, facts_to_doc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORMAT = 1


def _micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def _time(micros: Any) -> datetime:
    return EPOCH + timedelta(microseconds=int(micros))


def encode(delta: Facts) -> bytes:
    text = json.dumps(facts_to_doc(delta, _micros), separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def decode(blob: bytes) -> Facts:
    return facts_from_doc(json.loads(zlib.decompress(blob)), _time)


class MongoFactLog:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("written_at", ASCENDING)])

    async def append(self, delta: Facts) -> None:
        await self.collection.insert_one(
            {"written_at": datetime.now(UTC), "format": FORMAT, "delta": Binary(encode(delta))}
        )

    async def read(self, since: datetime | None) -> tuple[list[Facts], datetime | None]:
        query: Document = {} if since is None else {"written_at": {"$gte": since}}
        deltas: list[Facts] = []
        newest: datetime | None = None
        async for doc in self.collection.find(query).sort("written_at", ASCENDING):
            deltas.append(decode(bytes(doc["delta"])))
            newest = doc["written_at"]
        return deltas, newest
