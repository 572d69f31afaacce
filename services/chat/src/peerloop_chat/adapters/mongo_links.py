"""The chat service's own store: links, one-time codes and seen keys, in its database.

Each operation is one single-document command, atomic on every supported store:
a code is taken by `find_one_and_delete` (two presses, one winner), a key is seen
first by the insert that the unique `_id` lets through. Expired codes and keys are
filtered by time on read and removed by a TTL index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_chat.application.ports import ChatAccount

Document = dict[str, Any]


class MongoLinks:
    def __init__(self, links: AsyncCollection[Document], codes: AsyncCollection[Document]) -> None:
        self._links = links
        self._codes = codes

    async def ensure_indexes(self) -> None:
        await self._links.create_index([("person_id", ASCENDING)])
        await self._codes.create_index("expires_at", expireAfterSeconds=0)

    async def person_for(self, account: ChatAccount) -> str | None:
        found = await self._links.find_one({"_id": account.key})
        return str(found["person_id"]) if found else None

    async def accounts_of(self, person: str) -> list[ChatAccount]:
        cursor = self._links.find({"person_id": person}).sort("_id", ASCENDING)
        return [ChatAccount(d["platform"], d["workspace"], d["user"]) async for d in cursor]

    async def link(self, account: ChatAccount, person: str) -> None:
        await self._links.replace_one(
            {"_id": account.key},
            {
                "platform": account.platform,
                "workspace": account.workspace,
                "user": account.user,
                "person_id": person,
            },
            upsert=True,
        )

    async def add_code(self, digest: str, person: str, expires_at: datetime) -> None:
        await self._codes.insert_one({"_id": digest, "person_id": person, "expires_at": expires_at})

    async def take_code(self, digest: str, now: datetime) -> str | None:
        found = await self._codes.find_one_and_delete({"_id": digest, "expires_at": {"$gt": now}})
        return str(found["person_id"]) if found else None


class MongoSeen:
    def __init__(self, seen: AsyncCollection[Document]) -> None:
        self._seen = seen

    async def ensure_indexes(self) -> None:
        await self._seen.create_index("until", expireAfterSeconds=0)

    async def first_time(self, key: str, until: datetime) -> bool:
        try:
            await self._seen.insert_one({"_id": key, "until": until})
        except DuplicateKeyError:
            return False
        return True

    async def forget(self, key: str) -> None:
        await self._seen.delete_one({"_id": key})
