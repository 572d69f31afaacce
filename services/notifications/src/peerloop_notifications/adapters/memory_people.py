"""An in-memory people store with the contract of the Mongo one (for unit tests)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

from peerloop_runtime.mongo import Document

from peerloop_notifications.adapters.people_store import PERSONAL_FIELDS, person_from_documents
from peerloop_notifications.application.ports import StalePreferencesError
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import Preferences


@dataclass
class InMemoryPeopleStore:
    people: dict[str, Document] = field(default_factory=dict)
    preferences: dict[str, Document] = field(default_factory=dict)
    """By `<person_id>#<version>`, one document per version as in the Mongo store."""

    def _latest(self, person_id: str, *, below: int | None = None) -> Document | None:
        versions = [
            p
            for p in self.preferences.values()
            if p["person_id"] == person_id and (below is None or p["version"] < below)
        ]
        return max(versions, key=lambda p: p["version"], default=None)

    async def get(self, person_id: str) -> Person | None:
        doc = self.people.get(person_id)
        if doc is None:
            return None
        return person_from_documents(copy.deepcopy(doc), self._latest(person_id))

    async def names(self, person_ids: list[str]) -> dict[str, str]:
        return {
            pid: self.people[pid]["display_name"]
            for pid in person_ids
            if "display_name" in self.people.get(pid, {})
        }

    async def apply_profile(
        self, person_id: str, sequence: int, fields: dict[str, Any], *, guard: str
    ) -> bool:
        doc = self.people.get(person_id)
        if doc is None:
            self.people[person_id] = {"_id": person_id, **fields, guard: sequence}
            return True
        if doc.get("erased") or doc.get(guard, sequence - 1) >= sequence:
            return False
        doc |= {**fields, guard: sequence}
        return True

    async def erase(self, person_id: str, sequence: int) -> None:
        doc = self.people.setdefault(person_id, {"_id": person_id})
        for name in PERSONAL_FIELDS:
            doc.pop(name, None)
        doc |= {"erased": True, "erased_sequence": sequence}
        self.preferences = {
            k: p for k, p in self.preferences.items() if p["person_id"] != person_id
        }

    async def set_preferences(
        self, person_id: str, preferences: Preferences, expected_version: int
    ) -> int:
        version = expected_version + 1
        key = f"{person_id}#{version}"
        if key in self.preferences:
            raise StalePreferencesError(person_id, expected_version)
        self.preferences[key] = {
            "_id": key,
            "person_id": person_id,
            "version": version,
            "preferences": preferences.model_dump(mode="json"),
        }
        await asyncio.sleep(0)  # the second round trip, as in the Mongo store
        latest = self._latest(person_id, below=version)
        if (latest["version"] if latest else 0) != expected_version:
            del self.preferences[key]
            raise StalePreferencesError(person_id, expected_version)
        return version
