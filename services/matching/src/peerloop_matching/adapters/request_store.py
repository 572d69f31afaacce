"""The `help_requests` collection: one document per request, its outbox inside.

Every save is one conditional single-document update: the new state and the
events it causes, only if the stored `sequence` is still the one the decision
was made on. The request's published state (`help-request-state`) follows its
events in the same outbox write. A deleted request (its requester was erased)
leaves a stub without data holding the tombstone of its state until the relay
has published it; `load` never returns a stub.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import utc_now
from peerloop_contracts.states import HelpRequestState
from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import outbox_entry, tombstone_entry
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.domain.request_state import help_request_state
from peerloop_matching.domain.task_fit import PastTask

ERASED = "erased"
"""Marks the stub a deleted request leaves behind (see `RequestStore.delete`)."""


def _state_fields(request: HelpRequest) -> Document:
    fields = request.model_dump(mode="python")
    pending = request.pending
    fields["pending_expires_at"] = pending.expires_at if pending else None
    fields["updated_at"] = utc_now()
    return fields


def _outbox(events: Sequence[Event], request: HelpRequest) -> list[dict[str, Any]]:
    """The events, then the request's state after them; nothing when there are no events."""
    if not events:
        return []
    entries = [outbox_entry(e) for e in events]
    entries.append(outbox_entry(help_request_state(request, utc_now())))
    return [e.to_document() for e in entries]


class RequestStore:
    """A `HelpRequestRepository` on the store."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("state", ASCENDING), ("pending_expires_at", ASCENDING)], name="expiry"
        )
        await self.collection.create_index([("requester_id", ASCENDING)], name="requester")
        # Only waiting requests are in these: small, whatever the history of requests.
        only_waiting = {"state": "waiting"}
        await self.collection.create_index(
            [("skill_id", ASCENDING), ("created_at", ASCENDING)],
            name="waiting",
            partialFilterExpression=only_waiting,
        )
        for field, name in (("recheck_at", "waiting-recheck"), ("wait_until", "waiting-until")):
            await self.collection.create_index(
                [(field, ASCENDING)], name=name, partialFilterExpression=only_waiting
            )
        await self.collection.create_index([("proposals.helper_id", ASCENDING)], name="helpers")

    async def insert(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        """Store a new request with its events; False if its id is already taken."""
        try:
            await self.collection.insert_one(
                {
                    "_id": request.request_id,
                    **_state_fields(request),
                    "outbox": _outbox(events, request),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def load(self, request_id: str) -> HelpRequest | None:
        doc = await self.collection.find_one({"_id": request_id}, projection={"outbox": 0})
        return HelpRequest.model_validate(doc) if doc and not doc.get(ERASED) else None

    async def save(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        """Store the new state with its events; False if someone else saved first."""
        expected_version = request.version
        request.version += 1
        update: Document = {"$set": _state_fields(request)}
        if events:
            update["$push"] = {"outbox": {"$each": _outbox(events, request)}}
        result = await self.collection.update_one(
            {"_id": request.request_id, "version": expected_version}, update
        )
        if result.modified_count != 1:
            request.version = expected_version
            return False
        return True

    async def due_for_expiry(self, now: datetime, limit: int = 100) -> list[str]:
        cursor = self.collection.find(
            {"state": "proposed", "pending_expires_at": {"$lte": now}}, projection={"_id": 1}
        ).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def waiting_for(self, skill_ids: Sequence[str], limit: int = 100) -> list[str]:
        """Waiting requests for these skills, by skill then oldest first (index `waiting`)."""
        cursor = (
            self.collection.find(
                {"state": "waiting", "skill_id": {"$in": list(skill_ids)}},
                projection={"_id": 1},
            )
            .sort([("skill_id", ASCENDING), ("created_at", ASCENDING)])
            .hint("waiting")
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor]

    async def recheck_due(self, now: datetime, limit: int = 100) -> list[str]:
        cursor = (
            self.collection.find(
                {"state": "waiting", "recheck_at": {"$lte": now}}, projection={"_id": 1}
            )
            .sort("recheck_at", ASCENDING)
            .hint("waiting-recheck")
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor]

    async def waits_over(self, now: datetime, limit: int = 100) -> list[str]:
        cursor = (
            self.collection.find(
                {"state": "waiting", "wait_until": {"$lte": now}}, projection={"_id": 1}
            )
            .sort("wait_until", ASCENDING)
            .hint("waiting-until")
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor]

    async def requested_by(self, person_id: str) -> list[HelpRequest]:
        cursor = self.collection.find({"requester_id": person_id}, projection={"outbox": 0})
        return [HelpRequest.model_validate(doc) async for doc in cursor]

    async def helped_by(self, person_id: str) -> list[HelpRequest]:
        cursor = self.collection.find({"proposals.helper_id": person_id}, projection={"outbox": 0})
        return [HelpRequest.model_validate(doc) async for doc in cursor]

    async def tasks_taught(self, helper_ids: Sequence[str], per_helper: int) -> list[PastTask]:
        """Through the `helpers` index: whoever taught a session was proposed it first."""
        ids = list(dict.fromkeys(helper_ids))
        cursor = self.collection.find(
            {
                "proposals.helper_id": {"$in": ids},
                "state": "completed",
                "session.teacher_id": {"$in": ids},
            },
            projection={"task": 1, "session.teacher_id": 1, "created_at": 1},
        ).sort([("created_at", DESCENDING)])
        found: list[PastTask] = []
        counts: dict[str, int] = {}
        async for doc in cursor:
            teacher = doc["session"]["teacher_id"]
            if counts.get(teacher, 0) < per_helper:
                counts[teacher] = counts.get(teacher, 0) + 1
                found.append(PastTask(doc["_id"], teacher, doc["task"]))
            if len(found) == per_helper * len(ids):
                break
        return found

    async def delete(self, request_id: str) -> None:
        """Replace the request by a stub holding only the tombstone of its state.

        Unpublished entries go with the data: what was not yet said about an erased
        person is never said. The stub keeps the id taken, as an erased request's is.
        """
        tombstone = tombstone_entry(HelpRequestState, request_id)
        await self.collection.replace_one(
            {"_id": request_id},
            {ERASED: True, "updated_at": utc_now(), "outbox": [tombstone.to_document()]},
        )

    async def overwrite(self, request: HelpRequest) -> None:
        """Rewrite a request without change events, and queue its (redacted) state."""
        state = outbox_entry(help_request_state(request, utc_now()))
        await self.collection.update_one(
            {"_id": request.request_id},
            {"$set": _state_fields(request), "$push": {"outbox": state.to_document()}},
        )
