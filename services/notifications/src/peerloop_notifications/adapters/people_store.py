"""The service's own copy of people: name, e-mail, time zone (from profile events) and preferences.

Profile facts are applied only when newer than the last applied `sequence`, so a
stale or redelivered event changes nothing. An erased person leaves a tombstone
(id and sequence, no personal data) so a late, older profile event cannot bring
them back.

Preferences live in their own collection, one document per version, written only
by the HTTP API: the consumer and the API never write the same document, and
saving version n+1 is an insert of a unique id, which only one of two concurrent
writers can win.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_notifications.application.ports import StalePreferencesError
from peerloop_notifications.domain.person import DEFAULT_TIME_ZONE, Person
from peerloop_notifications.domain.preferences import Preferences

__all__ = ["DEFAULT_TIME_ZONE", "PeopleStore", "Person", "StalePreferencesError"]

PERSONAL_FIELDS = ("display_name", "email", "time_zone")


def person_from_documents(doc: Document, preferences: Document | None) -> Person:
    return Person(
        person_id=doc["_id"],
        display_name=doc.get("display_name"),
        email=doc.get("email"),
        time_zone=doc.get("time_zone") or DEFAULT_TIME_ZONE,
        preferences=Preferences.model_validate(preferences["preferences"])
        if preferences
        else Preferences(),
        preferences_version=int(preferences["version"]) if preferences else 0,
        erased=bool(doc.get("erased", False)),
    )


@dataclass
class PeopleStore:
    collection: AsyncCollection[Document]
    preferences: AsyncCollection[Document]

    async def ensure_indexes(self) -> None:
        await self.preferences.create_index(
            [("person_id", ASCENDING), ("version", DESCENDING)], name="latest_preferences"
        )

    async def get(self, person_id: str) -> Person | None:
        doc = await self.collection.find_one({"_id": person_id})
        if doc is None:
            return None
        latest = await self.preferences.find_one(
            {"person_id": person_id}, sort=[("version", DESCENDING)]
        )
        return person_from_documents(doc, latest)

    async def names(self, person_ids: list[str]) -> dict[str, str]:
        # One point lookup per person, each served by the `_id` index on every store.
        docs = await asyncio.gather(
            *(
                self.collection.find_one({"_id": pid}, projection={"display_name": 1})
                for pid in person_ids
            )
        )
        return {doc["_id"]: doc["display_name"] for doc in docs if doc and "display_name" in doc}

    async def apply_profile(
        self, person_id: str, sequence: int, fields: dict[str, Any], *, guard: str
    ) -> bool:
        """Store profile facts newer than the sequence recorded in the `guard` field.

        Different events carry different facts on different topics, which arrive in
        any order; each group of facts keeps its own sequence so an early
        availability change never hides the registration that came before it.
        False when the event is not newer than what we have.
        """
        newer = {
            "_id": person_id,
            "$or": [{guard: {"$lt": sequence}}, {guard: {"$exists": False}}],
            "erased": {"$ne": True},
        }
        change = {"$set": {**fields, guard: sequence}}
        try:
            result = await self.collection.update_one(newer, change, upsert=True)
        except DuplicateKeyError:
            # Either the document exists and is newer (or a tombstone), or a concurrent
            # upsert created it first; the plain update tells the two apart.
            result = await self.collection.update_one(newer, change)
        return result.modified_count > 0 or result.upserted_id is not None

    async def erase(self, person_id: str, sequence: int) -> None:
        await self.collection.update_one(
            {"_id": person_id},
            {
                "$set": {"erased": True, "erased_sequence": sequence},
                "$unset": dict.fromkeys(PERSONAL_FIELDS, ""),
            },
            upsert=True,
        )
        await self.preferences.delete_many({"person_id": person_id})

    async def set_preferences(
        self, person_id: str, preferences: Preferences, expected_version: int
    ) -> int:
        """Save the preferences as version `expected_version + 1`, unless someone did first."""
        version = expected_version + 1
        try:
            await self.preferences.insert_one(
                {
                    "_id": f"{person_id}#{version}",
                    "person_id": person_id,
                    "version": version,
                    "preferences": preferences.model_dump(mode="json"),
                }
            )
        except DuplicateKeyError as exc:
            raise StalePreferencesError(person_id, expected_version) from exc
        # A version from the future (expected 5 while 3 is the latest) would leave a gap.
        latest = await self.preferences.find_one(
            {"person_id": person_id, "version": {"$lt": version}},
            sort=[("version", DESCENDING)],
        )
        if (latest["version"] if latest else 0) != expected_version:
            await self.preferences.delete_one({"_id": f"{person_id}#{version}"})
            raise StalePreferencesError(person_id, expected_version)
        return version
