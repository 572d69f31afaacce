"""In-memory links and seen-keys with the stores' contract, for unit tests."""

from __future__ import annotations

from datetime import datetime

from peerloop_chat.application.ports import ChatAccount


class MemoryLinks:
    def __init__(self) -> None:
        self.people: dict[ChatAccount, str] = {}
        self.codes: dict[str, tuple[str, datetime]] = {}

    async def person_for(self, account: ChatAccount) -> str | None:
        return self.people.get(account)

    async def accounts_of(self, person: str) -> list[ChatAccount]:
        return sorted((a for a, p in self.people.items() if p == person), key=lambda a: a.key)

    async def link(self, account: ChatAccount, person: str) -> None:
        self.people[account] = person

    async def add_code(self, digest: str, person: str, expires_at: datetime) -> None:
        self.codes[digest] = (person, expires_at)

    async def take_code(self, digest: str, now: datetime) -> str | None:
        found = self.codes.pop(digest, None)
        if found is None or found[1] <= now:
            return None
        return found[0]


class MemorySeen:
    def __init__(self) -> None:
        self.keys: dict[str, datetime] = {}

    async def first_time(self, key: str, until: datetime) -> bool:
        if key in self.keys:
            return False
        self.keys[key] = until
        return True

    async def forget(self, key: str) -> None:
        self.keys.pop(key, None)
