"""An in-memory directory with the same contract as the Mongo one (for unit tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from peerloop_profiles.application.errors import NameTaken
from peerloop_profiles.domain.directory import DirectoryEntry, EntryKind, name_key


@dataclass
class InMemoryDirectory:
    entries: dict[str, DirectoryEntry] = field(default_factory=dict)

    async def get(self, kind: EntryKind, entry_id: str) -> DirectoryEntry | None:
        entry = self.entries.get(entry_id)
        return entry if entry is not None and entry.kind == kind else None

    async def find(
        self,
        kind: EntryKind,
        *,
        name: str | None = None,
        external_id: str | None = None,
        member: str | None = None,
    ) -> list[DirectoryEntry]:
        return [
            e
            for _, e in sorted(self.entries.items())
            if e.kind == kind
            and (name is None or name_key(e.name) == name_key(name))
            and (external_id is None or e.external_id == external_id)
            and (member is None or member in e.members)
        ]

    async def add(self, entry: DirectoryEntry) -> None:
        self._check_name(entry)
        self.entries[entry.entry_id] = entry

    async def replace(self, entry: DirectoryEntry, expected_version: int) -> bool:
        current = self.entries.get(entry.entry_id)
        if current is None or current.version != expected_version:
            return False
        self._check_name(entry)
        self.entries[entry.entry_id] = entry
        return True

    async def delete(self, kind: EntryKind, entry_id: str) -> None:
        if (entry := self.entries.get(entry_id)) is not None and entry.kind == kind:
            del self.entries[entry_id]

    def _check_name(self, entry: DirectoryEntry) -> None:
        for other in self.entries.values():
            if (
                other.entry_id != entry.entry_id
                and other.kind == entry.kind
                and name_key(other.name) == name_key(entry.name)
            ):
                raise NameTaken(entry.name)
