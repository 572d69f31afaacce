"""The fact log in MongoDB: one document per applied batch, read back in write order."""

from __future__ import annotations

from datetime import UTC, datetime

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_insights.domain.facts import Facts, facts_from_doc, facts_to_doc


class MongoFactLog:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("written_at", ASCENDING)])

    async def append(self, delta: Facts) -> None:
        await self.collection.insert_one({"written_at": datetime.now(UTC), **facts_to_doc(delta)})

    async def read(self, since: datetime | None) -> tuple[list[Facts], datetime | None]:
        query: Document = {} if since is None else {"written_at": {"$gte": since}}
        deltas: list[Facts] = []
        newest: datetime | None = None
        async for doc in self.collection.find(query).sort("written_at", ASCENDING):
            deltas.append(facts_from_doc(doc))
            newest = doc["written_at"]
        return deltas, newest
