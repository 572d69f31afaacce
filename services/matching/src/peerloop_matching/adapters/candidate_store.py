"""The `candidates` collection: matching's own read model of people, built from events.

Each part of a person comes from different events on different topics, which
may arrive in any order, so each part keeps the sequence it was applied at: the
profile, the availability, and every offered or learned skill. An apply only
writes if its part's sequence is older, so a stale or redelivered event changes
nothing. Erasure leaves a tombstone without personal data so a late event cannot
bring the person back.

Load (reservations), reputation and partners change through optimistic
read-modify-write on `load_version`: no transactions needed (the store conformance
suite, tests/store, checks that exactly one of concurrent conditional updates wins).
The document shape and the changes are in `candidate_documents.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from peerloop_contracts.envelope import utc_now
from peerloop_runtime.mongo import Document
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_matching.adapters.candidate_documents import (
    MAX_OPTIMISTIC_TRIES,
    STATE_SEQ,
    LoadChanges,
    Mutation,
    part_path,
    state_changes,
    to_candidate,
)
from peerloop_matching.application.ports import PersonParts
from peerloop_matching.domain.candidate import Candidate


def _older(path: str, sequence: int) -> Document:
    """The stored sequence at `path` is missing or older than `sequence`."""
    return {"$or": [{path: {"$exists": False}}, {path: {"$lt": sequence}}]}


class CandidateStore(LoadChanges):
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("updated_at", ASCENDING)], name="changed")
        await self.collection.create_index([("partners", ASCENDING)], name="partners", sparse=True)

    # -- read model from profile events ----------------------------------------------------

    async def apply_part(
        self,
        person_id: str,
        part: str,
        sequence: int,
        value: Document,
        *,
        state_floor: bool = True,
    ) -> Candidate | None:
        """Write one part of a person if its stored sequence is older.

        Returns the person after the write, or None when the event was stale, a
        repeat, or about someone erased: then nothing changed.
        """
        seq_path = f"{part}.seq"
        try:
            doc = await self.collection.find_one_and_update(
                {
                    "_id": person_id,
                    "erased": {"$ne": True},
                    "$and": [
                        _older(seq_path, sequence),
                        *([_older(STATE_SEQ, sequence)] if state_floor else []),
                    ],
                },
                {"$set": {part: {**value, "seq": sequence}, "updated_at": utc_now()}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None  # the person exists with a newer part, or was erased
        return to_candidate(doc) if doc else None

    async def apply_state(
        self, person_id: str, sequence: int, parts: PersonParts
    ) -> Candidate | None:
        """Every part at once, as one state record says: one read and one conditional write.

        The write is conditioned on what the read saw (the state floor, and each written
        part still older), so a change event applied in between makes it try again.
        """
        for _ in range(MAX_OPTIMISTIC_TRIES):
            doc = await self.collection.find_one({"_id": person_id})
            if doc is not None and (doc.get("erased") or doc.get(STATE_SEQ, -1) >= sequence):
                return None
            changes = state_changes(doc, sequence, parts)
            guards = [_older(STATE_SEQ, sequence), *(_older(f"{p}.seq", sequence) for p in changes)]
            update = {
                **{path: {**value, "seq": sequence} for path, value in changes.items()},
                STATE_SEQ: sequence,
                "updated_at": utc_now(),
            }
            try:
                after = await self.collection.find_one_and_update(
                    {"_id": person_id, "erased": {"$ne": True}, "$and": guards},
                    {"$set": update},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue  # changed since the read (or erased): read again
            return to_candidate(after) if after and changes else None
        raise RuntimeError(f"candidate {person_id} kept changing under its state")

    async def erase(self, person_id: str, sequence: int) -> None:
        await self.collection.replace_one(
            {"_id": person_id},
            {
                "_id": person_id,
                "erased": True,
                "erased_sequence": sequence,
                "updated_at": utc_now(),
            },
            upsert=True,
        )
        await self.collection.update_many(
            {"partners": person_id},
            {"$pull": {"partners": person_id}, "$set": {"updated_at": utc_now()}},
        )

    async def apply_profile(
        self, person_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self.apply_part(person_id, part_path("profile"), sequence, part)

    async def apply_availability(
        self, person_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self.apply_part(person_id, part_path("availability"), sequence, part)

    async def apply_offer(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self.apply_part(person_id, part_path("skills", skill_id), sequence, part)

    async def apply_learned(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self.apply_part(person_id, part_path("learned", skill_id), sequence, part)

    async def apply_evidence(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self.apply_part(
            person_id, part_path("evidence", skill_id), sequence, part, state_floor=False
        )

    # -- queries ---------------------------------------------------------------------------

    async def get(self, person_id: str) -> Candidate | None:
        doc = await self._find_live(person_id)
        return to_candidate(doc) if doc else None

    async def erased(self, person_id: str) -> bool:
        doc = await self.collection.find_one({"_id": person_id})
        return bool(doc and doc.get("erased"))

    async def _find_live(self, person_id: str) -> Document | None:
        # By `_id` alone, erasure checked here: on the local store a point lookup with any
        # second condition scans the collection.
        doc = await self.collection.find_one({"_id": person_id})
        return None if doc is None or doc.get("erased") else doc

    async def changed_since(
        self, watermark: datetime | None
    ) -> AsyncIterator[tuple[str, Candidate | None, datetime]]:
        """(person id, candidate or None when erased, updated_at), oldest change first."""
        query: Document = {} if watermark is None else {"updated_at": {"$gte": watermark}}
        async for doc in self.collection.find(query).sort("updated_at", ASCENDING):
            erased = doc.get("erased", False)
            yield doc["_id"], None if erased else to_candidate(doc), doc["updated_at"]

    # -- load, reputation, partners: the changes are `LoadChanges`' -------------------------

    async def mutate(self, person_id: str, change: Mutation) -> Candidate | None:
        """Apply `change` with optimistic concurrency; the candidate after it (None if absent)."""
        for _ in range(MAX_OPTIMISTIC_TRIES):
            doc = await self._find_live(person_id)
            if doc is None:
                return None
            current = to_candidate(doc)
            update = change(current, doc)
            if update is None:
                return current
            version = doc.get("load_version", 0)
            result = await self.collection.update_one(
                {"_id": person_id, "load_version": version}
                if "load_version" in doc
                else {"_id": person_id, "load_version": {"$exists": False}},
                {"$set": {**update, "load_version": version + 1, "updated_at": utc_now()}},
            )
            if result.modified_count:
                return to_candidate({**doc, **update})
        raise RuntimeError(f"candidate {person_id} kept changing under us")
