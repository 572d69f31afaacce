"""Pairing blocks in memory, with the contract of the Mongo store (for unit tests)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InMemoryPairingBlocks:
    blocks: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """(who asked, whom they named) → when."""

    async def add(self, person_id: str, other_id: str, now: datetime) -> None:
        self.blocks.setdefault((person_id, other_id), now)

    async def asked_by(self, person_id: str) -> list[str]:
        return sorted(b for a, b in self.blocks if a == person_id)

    async def pairs_involving(self, person_ids: Collection[str]) -> list[tuple[str, str]]:
        wanted = set(person_ids)
        return [(a, b) for a, b in self.blocks if a in wanted or b in wanted]

    async def forget(self, person_id: str) -> None:
        for key in [k for k in self.blocks if person_id in k]:
            del self.blocks[key]
