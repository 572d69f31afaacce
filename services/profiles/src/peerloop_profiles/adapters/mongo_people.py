"""The person aggregate in MongoDB: one document per person, `_id` = person id.

The document holds the state, `version` for optimistic concurrency, `sequence`,
and `outbox`, the events not yet published. A change replaces the state and
appends its events in one `update_one`, conditioned on the version read, so it
needs no transaction and works on any MongoDB-compatible server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import OutboxEntry
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_profiles.application.errors import AlreadyRegistered
from peerloop_profiles.domain.model import Person

COLLECTION = "people"


def to_document(person: Person) -> Document:
    state = person.model_dump(mode="json", exclude={"person_id"})
    return {"_id": person.person_id, **state}


def from_document(doc: Document) -> Person:
    # Only the person's own fields: the outbox and the relay's bookkeeping live beside them.
    state: dict[str, Any] = {k: v for k, v in doc.items() if k in Person.model_fields}
    return Person.model_validate({**state, "person_id": doc["_id"]})


class MongoPersonRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._people = collection

    async def ensure_indexes(self) -> None:
        await self._people.create_index(
            [("skills_offered.skill_id", ASCENDING), ("_id", ASCENDING)], name="offered_skill"
        )

    async def get(self, person_id: str) -> Person | None:
        doc = await self._people.find_one({"_id": person_id}, projection={"outbox": 0})
        return from_document(doc) if doc else None

    async def add(self, person: Person, outbox: Sequence[OutboxEntry]) -> None:
        try:
            await self._people.insert_one(
                {**to_document(person), "outbox": [e.to_document() for e in outbox]}
            )
        except DuplicateKeyError as exc:
            raise AlreadyRegistered(person.person_id) from exc

    async def save(
        self, person: Person, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        state = to_document(person)
        del state["_id"]
        update: Document = {"$set": state}
        if outbox:
            update["$push"] = {"outbox": {"$each": [e.to_document() for e in outbox]}}
        result = await self._people.update_one(
            {"_id": person.person_id, "version": expected_version}, update
        )
        return result.matched_count == 1

    async def offering(self, skill_id: str, *, after: str | None, limit: int) -> list[Person]:
        # A private offer is for matching only: never found by colleagues.
        query: Document = {
            "skills_offered": {"$elemMatch": {"skill_id": skill_id, "private": {"$ne": True}}}
        }
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = (
            self._people.find(query, projection={"outbox": 0, "outbox_lease": 0})
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [from_document(doc) async for doc in cursor]
