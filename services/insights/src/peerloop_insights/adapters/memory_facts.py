"""In-memory twins of the stores, for unit tests and the replay comparison."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from peerloop_insights.domain.facts import ERASED, Facts, facts_from_doc, facts_to_doc


@dataclass
class MemoryFactLog:
    deltas: list[tuple[datetime, dict[str, object]]] = field(default_factory=list)

    async def append(self, delta: Facts) -> None:
        # Kept in the stored form, so the tests go through the same conversion as the store.
        self.deltas.append((datetime.now(UTC), facts_to_doc(delta)))

    async def read(self, since: datetime | None) -> tuple[list[Facts], datetime | None]:
        chosen = [(at, d) for at, d in self.deltas if since is None or at >= since]
        newest = chosen[-1][0] if chosen else None
        return [facts_from_doc(d) for _, d in chosen], newest


def erased_mark(person_id: str) -> str:
    """What is kept of an erased id: enough to recognise a late event about them."""
    return hashlib.sha256(person_id.encode()).hexdigest()


@dataclass
class MemoryPseudonyms:
    by_person: dict[str, str] = field(default_factory=dict)
    erased_marks: set[str] = field(default_factory=set)
    erased: set[str] = field(default_factory=set)

    async def tokens(self, person_ids: Iterable[str]) -> dict[str, str]:
        found = {}
        for pid in person_ids:
            if erased_mark(pid) in self.erased_marks:
                found[pid] = ERASED
            else:
                found[pid] = self.by_person.setdefault(pid, secrets.token_hex(8))
        return found

    async def erase(self, person_id: str) -> None:
        self.erased_marks.add(erased_mark(person_id))
        token = self.by_person.pop(person_id, None)
        if token is not None:
            self.erased.add(token)

    async def erased_tokens(self) -> set[str]:
        return set(self.erased)
