"""The chat store on the real store: a code links once though many press at the same time,
an expired one never, and a key is seen first exactly once across concurrent callers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_chat.adapters.mongo_links import MongoLinks, MongoSeen
from peerloop_chat.application.ports import ChatAccount
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


async def test_links_codes_and_seen_keys(mongodb_uri: str, mongo_db_name: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri)
    try:
        db = client[mongo_db_name]
        links, seen = MongoLinks(db["links"], db["link_codes"]), MongoSeen(db["seen"])
        await links.ensure_indexes()
        await seen.ensure_indexes()
        now = datetime.now(UTC)

        await links.add_code("d1", "ada", now + timedelta(minutes=10))
        taken = await asyncio.gather(*(links.take_code("d1", now) for _ in range(8)))
        assert (taken.count("ada"), taken.count(None)) == (1, 7)
        await links.add_code("d2", "bo", now - timedelta(seconds=1))
        assert await links.take_code("d2", now) is None

        ada_slack = ChatAccount("slack", "T1", "U1")
        await links.link(ada_slack, "ada")
        await links.link(ChatAccount("slack", "T2", "U7"), "ada")
        await links.link(ada_slack, "ada")  # linking again changes nothing
        assert await links.person_for(ada_slack) == "ada"
        assert await links.accounts_of("ada") == [ada_slack, ChatAccount("slack", "T2", "U7")]
        assert await links.person_for(ChatAccount("slack", "T1", "U2")) is None

        until = now + timedelta(minutes=10)
        firsts = await asyncio.gather(*(seen.first_time("k", until) for _ in range(8)))
        assert firsts.count(True) == 1
        await seen.forget("k")
        assert await seen.first_time("k", until)
    finally:
        await client.close()
