"""The MongoDB features the services rely on, through `pymongo.AsyncMongoClient`.

They must hold on the local default store, real MongoDB (docker-compose,
testcontainers) and whatever the platform team runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(mongodb_uri: str, mongo_db_name: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client[mongo_db_name]
    await client.close()


async def test_document_round_trip(db: AsyncDatabase[Any]) -> None:
    when = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    doc = {"_id": "p-1", "name": "Ada", "skills": [{"id": "mongodb", "level": 4}], "at": when}
    await db.people.insert_one(doc)
    assert await db.people.find_one({"_id": "p-1"}) == doc


async def test_unique_index_rejects_duplicates(db: AsyncDatabase[Any]) -> None:
    await db.processed.create_index([("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True)
    await db.processed.insert_one({"consumer": "c", "event_id": "e-1"})
    await db.processed.insert_one({"consumer": "other", "event_id": "e-1"})
    with pytest.raises(DuplicateKeyError):
        await db.processed.insert_one({"consumer": "c", "event_id": "e-1"})
    assert await db.processed.count_documents({}) == 2


async def test_compound_index_serves_sorted_queries(db: AsyncDatabase[Any]) -> None:
    await db.inbox.create_index([("person_id", ASCENDING), ("read", ASCENDING), ("at", -1)])
    base = datetime(2026, 1, 1, tzinfo=UTC)
    await db.inbox.insert_many(
        [
            {"person_id": "p", "read": i % 2 == 0, "at": base + timedelta(minutes=i)}
            for i in range(6)
        ]
    )
    rows = await db.inbox.find({"person_id": "p"}).sort([("read", 1), ("at", -1)]).to_list()
    assert [(r["read"], r["at"].minute) for r in rows] == [
        (False, 5),
        (False, 3),
        (False, 1),
        (True, 4),
        (True, 2),
        (True, 0),
    ]
    names = [ix["name"] for ix in await (await db.inbox.list_indexes()).to_list()]
    assert "person_id_1_read_1_at_-1" in names


async def test_find_one_and_update_with_upsert(db: AsyncDatabase[Any]) -> None:
    first = await db.load.find_one_and_update(
        {"_id": "p-1"}, {"$inc": {"sessions": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    second = await db.load.find_one_and_update(
        {"_id": "p-1"}, {"$inc": {"sessions": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert (first["sessions"], second["sessions"]) == (1, 2)


async def test_push_and_pull_all_exact_entries(db: AsyncDatabase[Any]) -> None:
    # The outbox relay removes published entries by `$pullAll` of the entries as read back.
    await db.agg.insert_one({"_id": "a", "outbox": []})
    for i in range(3):
        await db.agg.update_one({"_id": "a"}, {"$push": {"outbox": {"id": f"e{i}", "n": i}}})
    doc = await db.agg.find_one({"_id": "a"})
    assert doc is not None
    done = [e for e in doc["outbox"] if e["id"] in ("e0", "e2")]
    await db.agg.update_one({"_id": "a"}, {"$pullAll": {"outbox": done}})
    doc = await db.agg.find_one({"_id": "a"})
    assert doc is not None
    assert doc["outbox"] == [{"id": "e1", "n": 1}]
    assert await db.agg.count_documents({"outbox.0": {"$exists": True}}) == 1
    assert await db.agg.count_documents({"outbox.id": "e1"}) == 1


async def test_conditional_update_refuses_stale_version(db: AsyncDatabase[Any]) -> None:
    await db.people.insert_one({"_id": "p", "version": 1, "name": "A"})
    ok = await db.people.update_one(
        {"_id": "p", "version": 1}, {"$set": {"name": "B"}, "$inc": {"version": 1}}
    )
    stale = await db.people.update_one(
        {"_id": "p", "version": 1}, {"$set": {"name": "C"}, "$inc": {"version": 1}}
    )
    assert (ok.matched_count, stale.matched_count) == (1, 0)
    assert await db.people.find_one({"_id": "p"}) == {"_id": "p", "version": 2, "name": "B"}


async def test_bulk_upserts_dates_and_simple_aggregation(db: AsyncDatabase[Any]) -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    await db.sessions.bulk_write(
        [
            UpdateOne(
                {"_id": f"s{i}"},
                {"$set": {"teacher": f"t{i % 2}", "at": base + timedelta(days=i)}},
                upsert=True,
            )
            for i in range(5)
        ]
    )
    recent = await db.sessions.count_documents({"at": {"$gte": base + timedelta(days=2)}})
    per_teacher = await (
        await db.sessions.aggregate(
            [
                {"$match": {"at": {"$lt": base + timedelta(days=10)}}},
                {"$group": {"_id": "$teacher", "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
    ).to_list()
    assert recent == 3
    assert per_teacher == [{"_id": "t0", "n": 3}, {"_id": "t1", "n": 2}]


async def test_guarded_upsert_of_an_existing_document_raises_duplicate_key(
    db: AsyncDatabase[Any],
) -> None:
    # people_store.apply: when the guard does not match an existing `_id`, the upsert
    # tries to insert that `_id` again; the services rely on DuplicateKeyError there.
    newer = {"_id": "p", "$or": [{"seq": {"$lt": 3}}, {"seq": {"$exists": False}}]}
    first = await db.people.update_one(newer, {"$set": {"seq": 3}}, upsert=True)
    assert first.upserted_id == "p"
    with pytest.raises(DuplicateKeyError):
        await db.people.update_one(newer, {"$set": {"seq": 3}}, upsert=True)
    erased = await db.people.update_one(
        {"_id": "p", "erased": {"$ne": True}},
        {"$set": {"erased": True}, "$unset": {"name": "", "seq": ""}},
    )
    assert erased.modified_count == 1
    assert await db.people.find_one({"_id": "p"}) == {"_id": "p", "erased": True}


async def test_pull_a_scalar_from_many_documents(db: AsyncDatabase[Any]) -> None:
    await db.candidates.create_index([("partners", ASCENDING)], sparse=True)
    await db.candidates.insert_many(
        [{"_id": "a", "partners": ["x", "y"]}, {"_id": "b", "partners": ["x"]}, {"_id": "c"}]
    )
    result = await db.candidates.update_many({"partners": "x"}, {"$pull": {"partners": "x"}})
    assert result.modified_count == 2
    rows = await db.candidates.find({}, sort=[("_id", ASCENDING)]).to_list()
    assert rows == [{"_id": "a", "partners": ["y"]}, {"_id": "b", "partners": []}, {"_id": "c"}]


async def test_latest_version_below_a_bound(db: AsyncDatabase[Any]) -> None:
    # people_store.set_preferences: one document per version, the newest found by sort.
    await db.preferences.create_index([("person_id", ASCENDING), ("version", -1)], unique=True)
    await db.preferences.insert_many(
        [{"_id": f"p#{v}", "person_id": "p", "version": v} for v in (1, 2, 3)]
        + [{"_id": "q#9", "person_id": "q", "version": 9}]
    )
    latest = await db.preferences.find_one(
        {"person_id": "p", "version": {"$lt": 3}}, sort=[("version", -1)]
    )
    assert latest is not None
    assert latest["_id"] == "p#2"
    assert (await db.preferences.delete_many({"person_id": "p"})).deleted_count == 3


async def test_outbox_queries_and_claims(db: AsyncDatabase[Any]) -> None:
    # The outbox relay: pending documents by `outbox.0`, claims by a unique `_id`,
    # a lapsed claim deleted by a condition on its lease.
    await db.agg.create_index([("outbox.id", ASCENDING)], sparse=True)
    await db.agg.insert_many(
        [{"_id": "a", "outbox": [{"id": "e1"}]}, {"_id": "b", "outbox": []}, {"_id": "c"}]
    )
    pending = await db.agg.find({"outbox.0": {"$exists": True}}, {"_id": 1}).limit(10).to_list()
    assert pending == [{"_id": "a"}]
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await db.claims.insert_one({"_id": "a", "owner": "r1", "until": now - timedelta(seconds=1)})
    with pytest.raises(DuplicateKeyError):
        await db.claims.insert_one({"_id": "a", "owner": "r2", "until": now})
    lapsed = await db.claims.delete_one({"_id": "a", "until": {"$lt": now}})
    assert lapsed.deleted_count == 1
    await db.claims.insert_one({"_id": "a", "owner": "r2", "until": now})
    assert (await db.claims.delete_one({"_id": "a", "owner": "r1"})).deleted_count == 0
    assert (await db.claims.delete_one({"_id": "a", "owner": "r2"})).deleted_count == 1


async def test_push_each_and_queries_on_array_fields(db: AsyncDatabase[Any]) -> None:
    await db.requests.create_index([("proposals.helper_id", ASCENDING)])
    await db.requests.insert_one({"_id": "r", "state": "open", "proposals": []})
    await db.requests.update_one(
        {"_id": "r"},
        {"$push": {"proposals": {"$each": [{"helper_id": "h1"}, {"helper_id": "h2"}]}}},
    )
    found = await db.requests.find({"proposals.helper_id": "h2"}).to_list()
    assert [r["_id"] for r in found] == ["r"]
    both = await db.requests.count_documents(
        {"_id": {"$in": ["r", "s"]}, "state": {"$in": ["open", "matched"]}}
    )
    assert both == 1
    ranged = await db.requests.count_documents({"_id": {"$gt": "q", "$lte": "r"}})
    assert ranged == 1


async def test_filters_on_one_id_and_more_conditions(db: AsyncDatabase[Any]) -> None:
    # Version-guarded saves and claims: `_id` plus conditions, in every kind of command.
    await db.docs.insert_many(
        [
            {"_id": 1, "version": 3, "tags": ["a"], "owner": {"name": "x"}},
            {"_id": "s", "version": 1},
            {"_id": 2, "version": 3},
        ]
    )
    assert await db.docs.find_one({"_id": 1.0, "version": 3}, {"version": 1}) == {
        "_id": 1,
        "version": 3,
    }
    assert await db.docs.find_one({"_id": 1, "version": 2}) is None
    assert await db.docs.count_documents({"_id": 1, "tags": "a", "owner.name": "x"}) == 1
    assert await db.docs.count_documents({"_id": 1, "$or": [{"version": 9}, {"tags": "b"}]}) == 0
    assert await db.docs.count_documents({"_id": {"$in": [1, 2]}, "version": 3}) == 2
    assert await db.docs.count_documents({"_id": {"$regex": "^s"}, "version": 1}) == 1
    updated = await db.docs.update_many({"_id": 2, "version": 3}, {"$inc": {"version": 1}})
    assert updated.modified_count == 1
    taken = await db.docs.find_one_and_update(
        {"_id": 2, "version": {"$gte": 4}},
        {"$set": {"owner": "me"}},
        return_document=ReturnDocument.AFTER,
    )
    assert taken == {"_id": 2, "version": 4, "owner": "me"}
    assert (await db.docs.delete_one({"_id": "s", "version": 2})).deleted_count == 0
    assert (await db.docs.delete_one({"_id": "s", "version": 1})).deleted_count == 1
