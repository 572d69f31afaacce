"""The organisation's skill definitions in MongoDB: one document per skill, `_id` = its id.

Like a person, a definition and its events are one `update_one` (or insert) conditioned on
the version read, with the events in the document's `outbox`. `keys` (the normalised id,
name and aliases) has a unique index over the live definitions, so two admins cannot give
one name to two skills even when both pass the check at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence

from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import OutboxEntry
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_profiles.application.errors import SkillNameTaken
from peerloop_profiles.domain.organisation_skills import SkillDefinition

COLLECTION = "organisation_skills"
KEYS_INDEX = "skill_keys"


def to_document(definition: SkillDefinition) -> Document:
    return {
        "_id": definition.skill_id,
        "name": definition.name,
        "aliases": list(definition.aliases),
        "description": definition.description,
        "related": list(definition.related),
        "broader": list(definition.broader),
        "extends": definition.extends,
        "version": definition.version,
        "removed": definition.removed,
        "keys": [] if definition.removed else definition.keys(),
    }


def from_document(doc: Document) -> SkillDefinition:
    return SkillDefinition(
        skill_id=doc["_id"],
        name=doc["name"],
        aliases=tuple(doc["aliases"]),
        description=doc["description"],
        related=tuple(doc["related"]),
        broader=tuple(doc["broader"]),
        extends=doc["extends"],
        version=doc["version"],
        removed=doc["removed"],
    )


class MongoSkillDefinitions:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._skills = collection

    async def ensure_indexes(self) -> None:
        await self._skills.create_index(
            [("keys", ASCENDING)],
            name=KEYS_INDEX,
            unique=True,
            partialFilterExpression={"removed": False},
        )

    async def get(self, skill_id: str) -> SkillDefinition | None:
        doc = await self._skills.find_one({"_id": skill_id}, projection={"outbox": 0})
        return from_document(doc) if doc else None

    async def add(self, definition: SkillDefinition, outbox: Sequence[OutboxEntry]) -> bool:
        doc = {**to_document(definition), "outbox": [e.to_document() for e in outbox]}
        try:
            await self._skills.insert_one(doc)
        except DuplicateKeyError as exc:
            if _on_keys(exc):
                raise SkillNameTaken(definition.skill_id) from exc
            return False
        return True

    async def save(
        self, definition: SkillDefinition, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        state = to_document(definition)
        del state["_id"]
        update: Document = {"$set": state}
        if outbox:
            update["$push"] = {"outbox": {"$each": [e.to_document() for e in outbox]}}
        try:
            result = await self._skills.update_one(
                {"_id": definition.skill_id, "version": expected_version}, update
            )
        except DuplicateKeyError as exc:
            raise SkillNameTaken(definition.skill_id) from exc
        return result.matched_count == 1


def _on_keys(exc: DuplicateKeyError) -> bool:
    details = exc.details or {}
    return KEYS_INDEX in str(details.get("errmsg", exc)) or "keys" in details.get("keyPattern", {})
