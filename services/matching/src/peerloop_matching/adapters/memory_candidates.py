"""Matching's view of people in memory, with the contract of the Mongo store (for unit tests).

Documents have the Mongo store's shape and go through the same changes
(`candidate_documents.LoadChanges`); a part is written only if its sequence is
newer, never about an erased person, and load changes are optimistic: `mutate`
yields between reading and its conditional write, so concurrent reservations
really race and the version check decides, as on the store.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peerloop_contracts.envelope import utc_now
from peerloop_runtime.mongo import Document

from peerloop_matching.adapters.candidate_documents import (
    MAX_OPTIMISTIC_TRIES,
    STATE_SEQ,
    LoadChanges,
    Mutation,
    skill_key,
    state_changes,
    to_candidate,
)
from peerloop_matching.application.ports import PersonParts
from peerloop_matching.domain.candidate import Candidate


@dataclass
class InMemoryCandidates(LoadChanges):
    docs: dict[str, Document] = field(default_factory=dict)
    _last_change: datetime | None = None

    def _stamp(self) -> datetime:
        """`updated_at`, strictly increasing so `changed_since` has one order."""
        now = utc_now()
        if self._last_change is not None and now <= self._last_change:
            now = self._last_change + timedelta(microseconds=1)
        self._last_change = now
        return now

    # -- read model from profile events ----------------------------------------------------

    async def _apply(
        self,
        person_id: str,
        path: tuple[str, ...],
        sequence: int,
        value: Document,
        *,
        state_floor: bool = True,
    ) -> Candidate | None:
        doc = self.docs.get(person_id)
        if doc is None:
            doc = {"_id": person_id}
        elif doc.get("erased") or (state_floor and doc.get(STATE_SEQ, -1) >= sequence):
            return None
        holder = doc
        for key in path[:-1]:
            holder = holder.setdefault(key, {})
        current = holder.get(path[-1])
        if current is not None and current.get("seq", -1) >= sequence:
            return None
        holder[path[-1]] = {**copy.deepcopy(value), "seq": sequence}
        doc["updated_at"] = self._stamp()
        self.docs[person_id] = doc
        return to_candidate(copy.deepcopy(doc))

    async def apply_profile(
        self, person_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self._apply(person_id, ("profile",), sequence, part)

    async def apply_availability(
        self, person_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self._apply(person_id, ("availability",), sequence, part)

    async def apply_offer(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self._apply(person_id, ("skills", skill_key(skill_id)), sequence, part)

    async def apply_learned(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self._apply(person_id, ("learned", skill_key(skill_id)), sequence, part)

    async def apply_evidence(
        self, person_id: str, skill_id: str, sequence: int, part: Document
    ) -> Candidate | None:
        return await self._apply(
            person_id, ("evidence", skill_key(skill_id)), sequence, part, state_floor=False
        )

    async def apply_state(
        self, person_id: str, sequence: int, parts: PersonParts
    ) -> Candidate | None:
        doc = self.docs.get(person_id)
        if doc is not None and (doc.get("erased") or doc.get(STATE_SEQ, -1) >= sequence):
            return None
        doc = doc if doc is not None else {"_id": person_id}
        changes = state_changes(doc, sequence, parts)
        for path, value in changes.items():
            holder = doc
            *parents, last = path.split(".")
            for key in parents:
                holder = holder.setdefault(key, {})
            holder[last] = {**copy.deepcopy(value), "seq": sequence}
        doc[STATE_SEQ] = sequence
        doc["updated_at"] = self._stamp()
        self.docs[person_id] = doc
        return to_candidate(copy.deepcopy(doc)) if changes else None

    async def erase(self, person_id: str, sequence: int) -> None:
        self.docs[person_id] = {
            "_id": person_id,
            "erased": True,
            "erased_sequence": sequence,
            "updated_at": self._stamp(),
        }
        for doc in self.docs.values():
            if person_id in doc.get("partners", ()):
                doc["partners"] = [p for p in doc["partners"] if p != person_id]
                doc["updated_at"] = self._stamp()

    # -- queries ---------------------------------------------------------------------------

    async def get(self, person_id: str) -> Candidate | None:
        doc = self._live(person_id)
        return to_candidate(doc) if doc else None

    async def erased(self, person_id: str) -> bool:
        return bool(self.docs.get(person_id, {}).get("erased"))

    def _live(self, person_id: str) -> Document | None:
        doc = self.docs.get(person_id)
        return None if doc is None or doc.get("erased") else copy.deepcopy(doc)

    async def changed_since(
        self, watermark: datetime | None
    ) -> AsyncIterator[tuple[str, Candidate | None, datetime]]:
        changed = sorted(
            (d for d in self.docs.values() if watermark is None or d["updated_at"] >= watermark),
            key=lambda d: d["updated_at"],
        )
        for doc in [copy.deepcopy(d) for d in changed]:
            yield doc["_id"], None if doc.get("erased") else to_candidate(doc), doc["updated_at"]

    # -- load, reputation, partners --------------------------------------------------------

    async def mutate(self, person_id: str, change: Mutation) -> Candidate | None:
        for _ in range(MAX_OPTIMISTIC_TRIES):
            doc = self._live(person_id)
            if doc is None:
                return None
            current = to_candidate(doc)
            update = change(current, doc)
            if update is None:
                return current
            version = doc.get("load_version", 0)
            await asyncio.sleep(0)  # another writer may come in here, as on the store
            stored = self.docs.get(person_id)
            if (
                stored is not None
                and not stored.get("erased")
                and (stored.get("load_version", 0) == version)
            ):
                stored.update(copy.deepcopy(update))
                stored["load_version"] = version + 1
                stored["updated_at"] = self._stamp()
                return to_candidate({**doc, **update})
        raise RuntimeError(f"candidate {person_id} kept changing under us")
