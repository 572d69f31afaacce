"""What the use cases need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from peerloop_runtime.outbox import OutboxEntry

from peerloop_profiles.domain.model import Person


class PersonRepository(Protocol):
    async def get(self, person_id: str) -> Person | None: ...

    async def add(self, person: Person, outbox: Sequence[OutboxEntry]) -> None:
        """Store a new person with its pending events; `AlreadyRegistered` if the id is taken."""

    async def save(
        self, person: Person, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        """Replace the state and append the events in one atomic write, only if the stored
        version is still `expected_version`; False (nothing written) otherwise."""

    async def offering(self, skill_id: str, *, after: str | None, limit: int) -> list[Person]:
        """People offering `skill_id`, ordered by id, starting after the id `after`."""
