"""The `programmes` collection: one document per programme, its outbox inside.

A programme's assignment (every pair with its breakdown) lives in its document, so a
preview, an adjustment or a re-solved decline is one conditional single-document
update of state and events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import utc_now
from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import outbox_entry
from pymongo.asynchronous.collection import AsyncCollection

from peerloop_matching.domain.programmes.programme import Programme


def _state_fields(programme: Programme) -> Document:
    fields = programme.model_dump(mode="json")
    fields["created_at"] = programme.created_at
    fields["updated_at"] = utc_now()
    return fields


def _outbox(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [outbox_entry(e).to_document() for e in events]


class ProgrammeStore:
    """A `ProgrammeRepository` on the store."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def insert(self, programme: Programme, events: Sequence[Event]) -> None:
        await self.collection.insert_one(
            {"_id": programme.programme_id, **_state_fields(programme), "outbox": _outbox(events)}
        )

    async def load(self, programme_id: str) -> Programme | None:
        doc = await self.collection.find_one({"_id": programme_id}, projection={"outbox": 0})
        return Programme.model_validate(doc) if doc else None

    async def save(self, programme: Programme, events: Sequence[Event]) -> bool:
        expected_version = programme.version
        programme.version += 1
        update: Document = {"$set": _state_fields(programme)}
        if events:
            update["$push"] = {"outbox": {"$each": _outbox(events)}}
        result = await self.collection.update_one(
            {"_id": programme.programme_id, "version": expected_version}, update
        )
        if result.modified_count != 1:
            programme.version = expected_version
            return False
        return True
