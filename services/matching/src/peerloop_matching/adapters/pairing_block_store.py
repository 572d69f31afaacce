"""The `pairing_blocks` collection: one document per (who asked, whom they named)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import datetime

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


class PairingBlockStore:
    """A `PairingBlockRepository` on the store."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("asked_by", ASCENDING), ("other", ASCENDING)], name="block", unique=True
        )
        await self.collection.create_index([("other", ASCENDING)], name="other")

    async def add(self, person_id: str, other_id: str, now: datetime) -> None:
        # A concurrent ask storing the same block first is the same outcome.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                {"asked_by": person_id, "other": other_id},
                {"$setOnInsert": {"at": now}},
                upsert=True,
            )

    async def asked_by(self, person_id: str) -> list[str]:
        cursor = self.collection.find({"asked_by": person_id}, projection={"other": 1})
        return sorted([doc["other"] async for doc in cursor])

    async def pairs_involving(self, person_ids: Collection[str]) -> list[tuple[str, str]]:
        ids = list(person_ids)
        cursor = self.collection.find(
            {"$or": [{"asked_by": {"$in": ids}}, {"other": {"$in": ids}}]},
            projection={"asked_by": 1, "other": 1},
        )
        return [(doc["asked_by"], doc["other"]) async for doc in cursor]

    async def forget(self, person_id: str) -> None:
        await self.collection.delete_many({"$or": [{"asked_by": person_id}, {"other": person_id}]})
