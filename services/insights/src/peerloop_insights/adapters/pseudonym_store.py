"""Person ids and their tokens in MongoDB, with what remains after an erasure.

`pseudonyms` maps an id to its token; erasing deletes that mapping, so nothing links
the facts to the person any more. `erased_people` keeps a hash of the id (to recognise a
late event about them) and `erased_tokens` the token (to drop its facts when read),
in separate collections with nothing joining the two.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from peerloop_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from peerloop_insights.adapters.memory_facts import erased_mark
from peerloop_insights.domain.facts import ERASED

DUPLICATE_KEY = 11000


class MongoPseudonyms:
    def __init__(
        self,
        pseudonyms: AsyncCollection[Document],
        erased_people: AsyncCollection[Document],
        erased_tokens: AsyncCollection[Document],
    ) -> None:
        self.pseudonyms = pseudonyms
        self.erased_people = erased_people
        self.erased = erased_tokens
        # Tokens never change; an erased person's is dropped when read (erased_tokens).
        self._cache: dict[str, str] = {}

    async def tokens(self, person_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(person_ids)
        found = {pid: self._cache[pid] for pid in wanted if pid in self._cache}
        missing = wanted - set(found)
        if missing:
            found.update(await self._look_up(missing))
            new = missing - set(found)
            if new:
                found.update(await self._make(new))
            for pid in missing:
                self._cache[pid] = found[pid]
        return found

    async def _look_up(self, ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        marks = {erased_mark(pid): pid for pid in ids}
        async for doc in self.erased_people.find({"_id": {"$in": list(marks)}}):
            found[marks[doc["_id"]]] = ERASED
        async for doc in self.pseudonyms.find({"_id": {"$in": list(ids - set(found))}}):
            found[doc["_id"]] = doc["token"]
        return found

    async def _make(self, ids: set[str]) -> dict[str, str]:
        made = {pid: secrets.token_hex(8) for pid in ids}
        try:
            await self.pseudonyms.insert_many(
                [{"_id": pid, "token": token} for pid, token in made.items()], ordered=False
            )
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
            # Another replica made some first: theirs stand.
            async for doc in self.pseudonyms.find({"_id": {"$in": list(ids)}}):
                made[doc["_id"]] = doc["token"]
        return made

    async def erase(self, person_id: str) -> None:
        # The mapping goes last: until then a redelivered erasure can finish the job.
        doc = await self.pseudonyms.find_one({"_id": person_id})
        if doc is not None:
            await self.erased.update_one(
                {"_id": doc["token"]}, {"$setOnInsert": {"erased": True}}, upsert=True
            )
        await self.erased_people.update_one(
            {"_id": erased_mark(person_id)}, {"$setOnInsert": {"erased": True}}, upsert=True
        )
        await self.pseudonyms.delete_one({"_id": person_id})
        self._cache.pop(person_id, None)

    async def erased_tokens(self) -> set[str]:
        return {doc["_id"] async for doc in self.erased.find({})}
