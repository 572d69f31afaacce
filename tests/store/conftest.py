"""The store conformance suite: what Peerloop needs from a MongoDB-compatible server.

It runs against whatever `MONGODB_URI` names (a real MongoDB, Atlas, the platform
team's store) or, without it, against the local default store, so one suite decides
whether a server qualifies. Every test uses a fresh database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from peerloop_runtime.mongo import Document
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

CONNECTIONS = 8
"""Separate clients in the concurrency tests: each has its own connections, as
separate service replicas would."""


@pytest.fixture
async def db(mongodb_uri: str, mongo_db_name: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client[mongo_db_name]
    await client.close()


@pytest.fixture
async def dbs(mongodb_uri: str, mongo_db_name: str) -> AsyncIterator[list[AsyncDatabase[Document]]]:
    """The same database through `CONNECTIONS` independent clients."""
    clients: list[AsyncMongoClient[Document]] = [
        AsyncMongoClient(mongodb_uri, tz_aware=True, appname=f"store-suite-{i}")
        for i in range(CONNECTIONS)
    ]
    # Connect before the races so that they race on the server, not on connection set-up.
    for client in clients:
        await client.admin.command("ping")
    yield [client[mongo_db_name] for client in clients]
    for client in clients:
        await client.close()
