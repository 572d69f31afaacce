"""The directory of provisioned users and groups on the real store, against its in-memory
twin: the same answers for the same calls, names unique case-insensitively per kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from peerloop_profiles.adapters.memory_directory import InMemoryDirectory
from peerloop_profiles.adapters.mongo_directory import MongoDirectory
from peerloop_profiles.application.errors import NameTaken
from peerloop_profiles.application.ports import DirectoryRepository
from peerloop_profiles.domain.directory import DirectoryEntry, EntryKind
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _user(entry_id: str, name: str, **extra: Any) -> DirectoryEntry:
    return DirectoryEntry(
        entry_id=entry_id,
        kind=EntryKind.USER,
        name=name,
        attributes={"userName": name, "emails": [{"value": f"{entry_id}@example.com"}]},
        created=NOW,
        modified=NOW,
        **extra,
    )


def _group(entry_id: str, name: str, members: tuple[str, ...]) -> DirectoryEntry:
    return DirectoryEntry(
        entry_id=entry_id,
        kind=EntryKind.GROUP,
        name=name,
        members=members,
        attributes={"displayName": name, "members": [{"value": m} for m in members]},
        created=NOW,
        modified=NOW,
    )


@pytest.fixture(params=["mongo", "memory"])
async def directory(
    request: pytest.FixtureRequest, mongodb_uri: str, mongo_db_name: str
) -> AsyncIterator[DirectoryRepository]:
    if request.param == "memory":
        yield InMemoryDirectory()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    store = MongoDirectory(client[mongo_db_name].directory)
    await store.ensure_indexes()
    yield store
    await client.close()


async def test_entries_round_trip_and_are_found_by_name_external_id_and_member(
    directory: DirectoryRepository,
) -> None:
    ada = _user("p-ada", "Ada@Example.com", external_id="hr-1", department="billing")
    await directory.add(ada)
    await directory.add(_user("p-bo", "bo@example.com"))
    await directory.add(_group("t-1", "payments", ("p-ada",)))

    assert await directory.get(EntryKind.USER, "p-ada") == ada
    assert await directory.get(EntryKind.GROUP, "p-ada") is None  # the kind is part of the key
    assert await directory.find(EntryKind.USER, name="ada@EXAMPLE.com") == [ada]
    assert await directory.find(EntryKind.USER, external_id="hr-1") == [ada]
    assert await directory.find(EntryKind.USER, external_id="HR-1") == []  # caseExact
    assert [g.entry_id for g in await directory.find(EntryKind.GROUP, member="p-ada")] == ["t-1"]
    assert [u.entry_id for u in await directory.find(EntryKind.USER)] == ["p-ada", "p-bo"]


async def test_a_name_is_taken_whatever_its_case_also_by_a_rename(
    directory: DirectoryRepository,
) -> None:
    await directory.add(_user("p-ada", "ada@example.com"))
    await directory.add(_user("p-bo", "bo@example.com"))
    with pytest.raises(NameTaken):
        await directory.add(_user("p-other", "ADA@example.com"))
    renamed = _user("p-bo", "Ada@Example.com", version=2)
    with pytest.raises(NameTaken):
        await directory.replace(renamed, 1)
    # A group may share a user's name: names are unique per kind.
    await directory.add(_group("t-1", "ada@example.com", ()))


async def test_a_replace_applies_only_at_the_version_read(directory: DirectoryRepository) -> None:
    await directory.add(_user("p-ada", "ada@example.com"))
    changed = _user("p-ada", "ada@example.com", department="web", version=2)
    first, second = await asyncio.gather(
        directory.replace(changed, 1), directory.replace(changed, 1)
    )
    assert sorted([first, second]) == [False, True]
    assert await directory.replace(changed.model_copy(update={"version": 3}), 1) is False
    assert (await directory.get(EntryKind.USER, "p-ada")) == changed
    await directory.delete(EntryKind.USER, "p-ada")
    assert await directory.get(EntryKind.USER, "p-ada") is None
