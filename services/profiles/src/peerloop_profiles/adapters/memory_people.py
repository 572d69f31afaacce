"""An in-memory person repository with the same contract as the Mongo one (for unit tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from peerloop_runtime.outbox import OutboxEntry

from peerloop_profiles.application.errors import AlreadyRegistered
from peerloop_profiles.domain.model import Person


@dataclass
class InMemoryPersonRepository:
    people: dict[str, Person] = field(default_factory=dict)
    outbox: dict[str, list[OutboxEntry]] = field(default_factory=dict)

    async def get(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    async def add(self, person: Person, outbox: Sequence[OutboxEntry]) -> None:
        if person.person_id in self.people:
            raise AlreadyRegistered(person.person_id)
        self.people[person.person_id] = person
        self.outbox[person.person_id] = list(outbox)

    async def save(
        self, person: Person, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        current = self.people.get(person.person_id)
        if current is None or current.version != expected_version:
            return False
        self.people[person.person_id] = person
        self.outbox.setdefault(person.person_id, []).extend(outbox)
        return True

    async def offering(self, skill_id: str, *, after: str | None, limit: int) -> list[Person]:
        found = sorted(
            (
                p
                for p in self.people.values()
                if (offer := p.offered(skill_id)) is not None and not offer.private
            ),
            key=lambda p: p.person_id,
        )
        return [p for p in found if after is None or p.person_id > after][:limit]

    def pending(self) -> list[OutboxEntry]:
        return [entry for entries in self.outbox.values() for entry in entries]
