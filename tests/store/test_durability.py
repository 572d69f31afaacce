"""Acknowledged writes survive a crash (kill -9) of the local store.

The test starts its own server of the local kind on a spare port with its own data
directory, so it never disturbs the store the other tests use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from peerloop_cli.infra import mongo_java_server as local_store
from peerloop_cli.infra.process import free_port
from pymongo import MongoClient, uri_parser

pytestmark = pytest.mark.integration

WRITES = 101


def _names_the_local_store(uri: str) -> bool:
    """CI points MONGODB_URI at the local store it started; that one is tested here."""
    nodes = uri_parser.parse_uri(uri)["nodelist"]
    local = local_store.StoreSettings.from_env()
    return nodes == [(local.host, local.port)] and local_store.status(local).running


@pytest.fixture
def own_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[local_store.StoreSettings]:
    uri = os.environ.get("MONGODB_URI")
    if uri and not _names_the_local_store(uri):
        pytest.skip(
            f"MONGODB_URI names an external server ({uri}): its durability is its operator's"
        )
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_MONGO_PORT", str(free_port()))
    settings = local_store.StoreSettings.from_env()
    local_store.start(settings)
    local_store.wait_ready(settings)
    yield settings
    local_store.stop(settings)


def test_acknowledged_writes_survive_kill_9(own_store: local_store.StoreSettings) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(own_store.url)
    try:
        docs = client.durable.docs
        counter = client.durable.counters
        counter.insert_one({"_id": "c", "n": 0})
        for i in range(WRITES):
            docs.insert_one({"_id": i, "payload": "x" * 200})
            counter.update_one({"_id": "c"}, {"$inc": {"n": 1}})
        docs.update_one({"_id": 0}, {"$set": {"changed": True}})
        docs.delete_one({"_id": 1})
    finally:
        client.close()

    local_store.kill(own_store)
    local_store.start(own_store)
    local_store.wait_ready(own_store)

    client = MongoClient(own_store.url)
    try:
        kept = client.durable.docs.count_documents({})
        counted = client.durable.counters.find_one({"_id": "c"})
        changed = client.durable.docs.find_one({"_id": 0})
    finally:
        client.close()
    assert kept == WRITES - 1
    assert counted == {"_id": "c", "n": WRITES}
    assert changed is not None
    assert changed["changed"] is True
