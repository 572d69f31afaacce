"""Skill definitions on the real store, against the in-memory twin: the same answers, and
no name held by two live definitions even when both writers passed the domain's check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from peerloop_profiles.adapters.memory_skills import InMemorySkillDefinitions
from peerloop_profiles.adapters.mongo_skills import MongoSkillDefinitions
from peerloop_profiles.application.errors import SkillNameTaken
from peerloop_profiles.application.ports import SkillDefinitionRepository
from peerloop_profiles.domain.organisation_skills import SkillDefinition
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

LEDGER = SkillDefinition("acme-ledger", "Acme Ledger", ("ledger",), related=("accounting",))


@pytest.fixture(params=["mongo", "memory"])
async def store(
    request: pytest.FixtureRequest, mongodb_uri: str, mongo_db_name: str
) -> AsyncIterator[SkillDefinitionRepository]:
    if request.param == "memory":
        yield InMemorySkillDefinitions()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    skills = MongoSkillDefinitions(client[mongo_db_name].organisation_skills)
    await skills.ensure_indexes()
    yield skills
    await client.close()


async def test_a_definition_is_added_once_and_saved_only_at_its_version(
    store: SkillDefinitionRepository,
) -> None:
    first = replace(LEDGER, version=1)
    assert await store.add(first, [])
    assert not await store.add(first, [])
    assert await store.get("acme-ledger") == first
    second = replace(first, aliases=("books",), version=2)
    assert not await store.save(second, 0, [])
    assert await store.save(second, 1, [])
    assert await store.get("acme-ledger") == second
    assert await store.get("nothing") is None


async def test_no_two_live_definitions_hold_one_name_and_a_removed_one_holds_none(
    store: SkillDefinitionRepository,
) -> None:
    assert await store.add(replace(LEDGER, version=1), [])
    books = SkillDefinition("acme-books", "Acme Books", ("Ledger",), version=1)
    with pytest.raises(SkillNameTaken):
        await store.add(books, [])
    assert await store.save(replace(LEDGER, version=2, removed=True), 1, [])
    # Two removed definitions both hold nothing: no clash between them either.
    assert await store.add(books, [])
    assert await store.save(replace(books, version=2, removed=True), 1, [])
    assert await store.add(SkillDefinition("acme-cash", "Cash", ("ledger",), version=1), [])
