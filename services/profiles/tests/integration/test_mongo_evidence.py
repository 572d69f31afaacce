"""The evidence store on the real store: the same contract as the in-memory twin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from peerloop_profiles.adapters.memory_evidence import InMemoryEvidence
from peerloop_profiles.adapters.mongo_evidence import MongoEvidence
from peerloop_profiles.application.ports import EvidenceRepository
from peerloop_profiles.domain import evidence
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["mongo", "memory"])
async def store(
    request: pytest.FixtureRequest, mongodb_uri: str, mongo_db_name: str
) -> AsyncIterator[EvidenceRepository]:
    if request.param == "memory":
        yield InMemoryEvidence()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    items = MongoEvidence(client[mongo_db_name].evidence)
    await items.ensure_indexes()
    yield items
    await client.close()


async def test_an_item_stored_twice_is_one_item_and_reads_back_equal(
    store: EvidenceRepository,
) -> None:
    taught = evidence.taught("p-t", "s-1", "kubernetes", AT)
    rating = evidence.rated("p-t", "s-1", 4)
    for item in (taught, taught, rating, evidence.rated("p-t", "s-1", 5)):
        await store.put(item)
    found = sorted(await store.of("p-t"), key=lambda i: i.kind.value)
    assert found == [evidence.rated("p-t", "s-1", 5), taught]  # the newer rating replaced


async def test_forgetting_deletes_theirs_and_keeps_their_endorsements_nameless(
    store: EvidenceRepository,
) -> None:
    await store.put(evidence.learned("p-l", "s-1", "kubernetes", AT))
    await store.put(evidence.endorsed("p-t", "kubernetes", "p-l", AT))
    await store.put(evidence.endorsed("p-t", "kubernetes", "p-other", AT))
    await store.forget("p-l")
    assert await store.of("p-l") == []
    kept = await store.of("p-t")
    assert len(kept) == 2
    assert {i.source for i in kept} != {"p-l", "p-other"}
    assert all("p-l" not in i.key for i in kept)
    assert any(i.source == "p-other" for i in kept)
    assert all(i.at == AT and i.skill_id == "kubernetes" for i in kept)
