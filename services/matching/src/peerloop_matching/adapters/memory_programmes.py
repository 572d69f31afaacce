"""Programmes in memory, with the contract of the Mongo store (for unit tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from peerloop_contracts.base import Event

from peerloop_matching.domain.programmes.programme import Programme


@dataclass
class InMemoryProgrammes:
    programmes: dict[str, Programme] = field(default_factory=dict)
    outbox: dict[str, list[Event]] = field(default_factory=dict)

    async def insert(self, programme: Programme, events: Sequence[Event]) -> None:
        if programme.programme_id in self.programmes:
            raise ValueError(f"programme {programme.programme_id} exists")
        self.programmes[programme.programme_id] = programme.model_copy(deep=True)
        self.outbox[programme.programme_id] = list(events)

    async def load(self, programme_id: str) -> Programme | None:
        stored = self.programmes.get(programme_id)
        return stored.model_copy(deep=True) if stored is not None else None

    async def save(self, programme: Programme, events: Sequence[Event]) -> bool:
        stored = self.programmes.get(programme.programme_id)
        if stored is None or stored.version != programme.version:
            return False
        programme.version += 1
        self.programmes[programme.programme_id] = programme.model_copy(deep=True)
        self.outbox[programme.programme_id].extend(events)
        return True

    def events(self, programme_id: str) -> list[Event]:
        return list(self.outbox.get(programme_id, ()))
