"""Acknowledged writes survive a crash (kill -9) of the local store.

The test starts its own server of the local kind on a spare port with its own data
directory, so it never disturbs the store the other tests use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from peerloop_cli.infra import ferretdb as local_store
from peerloop_cli.infra.process import free_port, port_open, wait_until
from pymongo import MongoClient

pytestmark = pytest.mark.integration

WRITES = 101


@pytest.fixture
def own_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[local_store.FerretSettings]:
    if os.environ.get("MONGODB_URI"):
        pytest.skip("MONGODB_URI names an external server: its durability is its operator's")
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_MONGO_PORT", str(free_port()))
    settings = local_store.FerretSettings.from_env()
    local_store.start(settings)
    local_store.wait_ready(settings)
    yield settings
    local_store.stop(settings)


def test_acknowledged_writes_survive_kill_9(own_store: local_store.FerretSettings) -> None:
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

    local_store._process().kill()
    wait_until(
        lambda: not port_open(own_store.host, own_store.port), timeout=10, what="the port to close"
    )
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
