"""The provisioned users and groups in MongoDB: collection `directory`, `_id` = entry id.

Names are unique per kind through a unique index on (`kind`, `name_key`), the
case-folded name, so two concurrent creates of one userName store one entry.
"""

from __future__ import annotations

from typing import Any

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_profiles.application.errors import NameTaken
from peerloop_profiles.domain.directory import DirectoryEntry, EntryKind, name_key

COLLECTION = "directory"


def to_document(entry: DirectoryEntry) -> Document:
    state = entry.model_dump(mode="json", exclude={"entry_id"})
    return {"_id": entry.entry_id, **state, "name_key": name_key(entry.name)}


def from_document(doc: Document) -> DirectoryEntry:
    state: dict[str, Any] = {k: v for k, v in doc.items() if k in DirectoryEntry.model_fields}
    return DirectoryEntry.model_validate({**state, "entry_id": doc["_id"]})


class MongoDirectory:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._entries = collection

    async def ensure_indexes(self) -> None:
        await self._entries.create_index(
            [("kind", ASCENDING), ("name_key", ASCENDING)], name="unique_name", unique=True
        )
        await self._entries.create_index(
            [("kind", ASCENDING), ("external_id", ASCENDING)], name="external_id"
        )
        await self._entries.create_index([("members", ASCENDING)], name="members")

    async def get(self, kind: EntryKind, entry_id: str) -> DirectoryEntry | None:
        doc = await self._entries.find_one({"_id": entry_id, "kind": kind.value})
        return from_document(doc) if doc else None

    async def find(
        self,
        kind: EntryKind,
        *,
        name: str | None = None,
        external_id: str | None = None,
        member: str | None = None,
    ) -> list[DirectoryEntry]:
        query: Document = {"kind": kind.value}
        if name is not None:
            query["name_key"] = name_key(name)
        if external_id is not None:
            query["external_id"] = external_id
        if member is not None:
            query["members"] = member
        cursor = self._entries.find(query).sort("_id", ASCENDING)
        return [from_document(doc) async for doc in cursor]

    async def add(self, entry: DirectoryEntry) -> None:
        try:
            await self._entries.insert_one(to_document(entry))
        except DuplicateKeyError as exc:
            raise NameTaken(entry.name) from exc

    async def replace(self, entry: DirectoryEntry, expected_version: int) -> bool:
        try:
            result = await self._entries.replace_one(
                {"_id": entry.entry_id, "version": expected_version}, to_document(entry)
            )
        except DuplicateKeyError as exc:
            raise NameTaken(entry.name) from exc
        return result.matched_count == 1

    async def delete(self, kind: EntryKind, entry_id: str) -> None:
        await self._entries.delete_one({"_id": entry_id, "kind": kind.value})
