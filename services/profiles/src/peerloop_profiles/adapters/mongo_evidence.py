"""Evidence items in MongoDB: one document per item, `_id` = its key.

Items are an input log, apart from the person documents: the summary they add up to is
published from the person document (its outbox), recomputed from these after each
item is stored, so an item stored just before a crash is counted by the redelivery.
"""

from __future__ import annotations

from typing import Any

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_profiles.adapters.memory_evidence import anonymous_source
from peerloop_profiles.domain.evidence import EvidenceItem, EvidenceKind

COLLECTION = "evidence"


def _id(item: EvidenceItem) -> str:
    return "|".join(item.key)


def to_document(item: EvidenceItem) -> Document:
    return {"_id": _id(item), **item.model_dump(mode="json")}


def from_document(doc: Document) -> EvidenceItem:
    state: dict[str, Any] = {k: v for k, v in doc.items() if k in EvidenceItem.model_fields}
    return EvidenceItem.model_validate(state)


class MongoEvidence:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._items = collection

    async def ensure_indexes(self) -> None:
        await self._items.create_index([("person_id", ASCENDING)], name="person")
        await self._items.create_index(
            [("kind", ASCENDING), ("source", ASCENDING)], name="kind_source"
        )

    async def put(self, item: EvidenceItem) -> None:
        doc = to_document(item)
        await self._items.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def of(self, person_id: str) -> list[EvidenceItem]:
        return [from_document(d) async for d in self._items.find({"person_id": person_id})]

    async def forget(self, person_id: str) -> None:
        await self._items.delete_many({"person_id": person_id})
        given = self._items.find({"kind": EvidenceKind.ENDORSED.value, "source": person_id})
        async for doc in given:
            # The id holds the endorser's id too: a new document, then the old one goes.
            kept = from_document(doc).model_copy(update={"source": anonymous_source()})
            await self._items.insert_one(to_document(kept))
            await self._items.delete_one({"_id": doc["_id"]})
