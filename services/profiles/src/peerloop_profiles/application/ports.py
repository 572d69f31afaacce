"""What the use cases need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from peerloop_runtime.outbox import OutboxEntry

from peerloop_profiles.domain.directory import DirectoryEntry, EntryKind
from peerloop_profiles.domain.evidence import EvidenceItem
from peerloop_profiles.domain.model import Person
from peerloop_profiles.domain.organisation_skills import SkillDefinition


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


class DirectoryRepository(Protocol):
    """The users and groups the identity system provisioned (SCIM), one entry each."""

    async def get(self, kind: EntryKind, entry_id: str) -> DirectoryEntry | None: ...

    async def find(
        self,
        kind: EntryKind,
        *,
        name: str | None = None,
        external_id: str | None = None,
        member: str | None = None,
    ) -> list[DirectoryEntry]:
        """Entries of a kind, by id order; narrowed to a name (case-insensitive), an
        external id or a group member when given."""

    async def add(self, entry: DirectoryEntry) -> None:
        """Store a new entry; `NameTaken` if a user with that name exists."""

    async def replace(self, entry: DirectoryEntry, expected_version: int) -> bool:
        """Replace the entry only if it is still at `expected_version`; False otherwise.
        `NameTaken` if a renamed user takes another user's name."""

    async def delete(self, kind: EntryKind, entry_id: str) -> None: ...


class EvidenceRepository(Protocol):
    """The evidence items of people's skills (`domain/evidence.py`)."""

    async def put(self, item: EvidenceItem) -> None:
        """Store the item, replacing one with the same `key` (a redelivery counts once)."""

    async def of(self, person_id: str) -> list[EvidenceItem]:
        """All items about a person, any skill."""

    async def forget(self, person_id: str) -> None:
        """Erasure: delete the items about the person, and keep the endorsements they gave
        without their id (the helper keeps the evidence; nobody learns who gave it)."""


class SkillDefinitionRepository(Protocol):
    """The organisation's skill definitions, one per skill id, kept (as `removed`) after
    deletion so the version goes on."""

    async def get(self, skill_id: str) -> SkillDefinition | None: ...

    async def add(self, definition: SkillDefinition, outbox: Sequence[OutboxEntry]) -> bool:
        """Store a first definition with its events; False if one of that id exists.
        `SkillNameTaken` if another live definition holds one of its keys."""

    async def save(
        self, definition: SkillDefinition, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        """Replace it only if still at `expected_version`; False otherwise.
        `SkillNameTaken` if another live definition holds one of its keys."""
