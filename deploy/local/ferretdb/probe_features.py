"""Probe what a MongoDB-compatible server supports, through pymongo's AsyncMongoClient.

    python deploy/local/ferretdb/probe_features.py [MONGODB_URL]

Default URL: mongodb://127.0.0.1:$PEERLOOP_MONGO_PORT (27017). Works in the
scratch database `peerloop_probe` (dropped before and after). Prints one
markdown table row per check; FEATURES.md records the result for FerretDB.
Each check raises on a wrong result, so "FAIL" means unsupported *or* wrong.
Run it again when FerretDB's version changes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Int64
from pymongo import AsyncMongoClient, DeleteOne, InsertOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

Doc = dict[str, Any]
DB = "peerloop_probe"


class WrongResultError(Exception):
    """The server answered, but not as MongoDB would."""


def expect(ok: bool, what: object) -> None:
    if not ok:
        raise WrongResultError(str(what))


class Probe:
    def __init__(self, client: AsyncMongoClient[Doc]) -> None:
        self.client = client
        self.db: AsyncDatabase[Doc] = client[DB]

    # -- indexes ------------------------------------------------------------------

    async def unique_index(self) -> str:
        c = self.db.users
        await c.create_index("email", unique=True)
        await c.insert_one({"email": "a@x"})
        try:
            await c.insert_one({"email": "a@x"})
        except DuplicateKeyError as exc:
            return f"DuplicateKeyError code {exc.code}"
        raise WrongResultError("duplicate accepted")

    async def unique_on_update(self) -> str:
        try:
            await self.db.users.update_one({"k": 1}, {"$set": {"email": "a@x"}}, upsert=True)
        except DuplicateKeyError:
            return "upsert that violates the unique index -> DuplicateKeyError"
        raise WrongResultError("duplicate accepted")

    async def unique_missing_field(self) -> str:
        c = self.db.nulls
        await c.create_index("k", unique=True)
        await c.insert_one({"x": 1})
        try:
            await c.insert_one({"x": 2})
        except DuplicateKeyError:
            return "second doc without the field rejected (as MongoDB)"
        raise WrongResultError(
            "two docs without the unique field accepted; MongoDB rejects (both null)"
        )

    async def compound_index(self) -> str:
        c = self.db.matches
        await c.create_index([("learner", 1), ("created_at", -1)])
        await c.create_index([("a", 1), ("b", 1)], unique=True)
        await c.insert_many([{"a": 1, "b": 1}, {"a": 1, "b": 2}])
        try:
            await c.insert_one({"a": 1, "b": 1})
        except DuplicateKeyError:
            names = [i["name"] async for i in await c.list_indexes()]
            return f"indexes {names}; compound unique enforced"
        raise WrongResultError("compound unique not enforced")

    async def sparse_unique(self) -> str:
        return await self.db.users.create_index("nick", unique=True, sparse=True)

    async def partial_index(self) -> str:
        return await self.db.users.create_index(
            "handle", unique=True, partialFilterExpression={"handle": {"$exists": True}}
        )

    async def ttl_index(self) -> str:
        return await self.db.events.create_index("at", expireAfterSeconds=3600)

    # -- updates ------------------------------------------------------------------

    async def find_one_and_update_upsert(self) -> str:
        c = self.db.counters
        first = await c.find_one_and_update(
            {"_id": "seq"},
            {"$inc": {"n": 1}, "$setOnInsert": {"created": True}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        second = await c.find_one_and_update(
            {"_id": "seq"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        before = await c.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}})
        expect(first == {"_id": "seq", "n": 1, "created": True}, first)
        expect(second is not None and second["n"] == 2, second)
        expect(before is not None and before["n"] == 2, before)
        other = await c.find_one_and_update(
            {"owner": "u1", "kind": "x"},
            {"$set": {"v": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        expect(other is not None and other["owner"] == "u1" and other["kind"] == "x", other)
        return "insert and update paths, $setOnInsert, BEFORE; filter fields copied on upsert"

    async def find_one_and_update_sort(self) -> str:
        c = self.db.queue
        await c.insert_many([{"s": "ready", "p": i} for i in range(3)])
        doc = await c.find_one_and_update(
            {"s": "ready"},
            {"$set": {"s": "taken"}},
            sort=[("p", -1)],
            return_document=ReturnDocument.AFTER,
        )
        expect(doc is not None and doc["p"] == 2 and doc["s"] == "taken", doc)
        return "sort picks the right document"

    async def _outbox_doc(self) -> None:
        await self.db.agg.delete_many({})
        await self.db.agg.insert_one(
            {
                "_id": 1,
                "tags": ["a", "b", "c"],
                "nums": [1, 5, 9],
                "outbox": [{"id": "e1", "n": 1}, {"id": "e2", "n": 2}, {"id": "e3", "n": 3}],
            }
        )

    async def _array_after(self, update: Doc) -> Doc:
        await self._outbox_doc()
        await self.db.agg.update_one({"_id": 1}, update)
        doc = await self.db.agg.find_one({"_id": 1}, {"_id": 0})
        assert doc is not None
        return doc

    async def push(self) -> str:
        doc = await self._array_after({"$push": {"outbox": {"id": "e4", "p": {"k": [1]}}}})
        expect([e["id"] for e in doc["outbox"]] == ["e1", "e2", "e3", "e4"], doc)
        doc = await self._array_after({"$push": {"tags": {"$each": ["d", "e"]}}})
        expect(doc["tags"] == ["a", "b", "c", "d", "e"], doc)
        return "$push and $push $each"

    async def push_slice(self) -> str:
        doc = await self._array_after({"$push": {"nums": {"$each": [10, 11], "$slice": -2}}})
        expect(doc["nums"] == [10, 11], f"$slice ignored silently: {doc['nums']}")
        return "ok"

    async def push_position_sort(self) -> str:
        doc = await self._array_after({"$push": {"nums": {"$each": [0], "$position": 0}}})
        expect(doc["nums"][0] == 0, f"$position ignored silently: {doc['nums']}")
        return "ok"

    async def pull_scalar(self) -> str:
        doc = await self._array_after({"$pull": {"tags": "a"}})
        expect(doc["tags"] == ["b", "c"], doc)
        return "$pull {tags: 'a'}"

    async def pull_exact_subdoc(self) -> str:
        doc = await self._array_after({"$pull": {"outbox": {"id": "e1", "n": 1}}})
        expect([e["id"] for e in doc["outbox"]] == ["e2", "e3"], doc)
        return "$pull with the whole subdocument (exact equality)"

    async def pull_subdoc_in(self) -> str:
        doc = await self._array_after({"$pull": {"outbox": {"id": {"$in": ["e1", "e3"]}}}})
        expect(
            [e["id"] for e in doc["outbox"]] == ["e2"],
            f"no-op, no error (modified 0): {[e['id'] for e in doc['outbox']]}",
        )
        return "ok"

    async def pull_subdoc_partial(self) -> str:
        doc = await self._array_after({"$pull": {"outbox": {"id": "e1"}}})
        expect(
            [e["id"] for e in doc["outbox"]] == ["e2", "e3"],
            f"no-op, no error (modified 0): {[e['id'] for e in doc['outbox']]}",
        )
        return "ok"

    async def pull_scalar_condition(self) -> str:
        doc = await self._array_after({"$pull": {"nums": {"$gte": 5}}})
        expect(doc["nums"] == [1], f"no-op, no error (modified 0): {doc['nums']}")
        return "ok"

    async def pull_all(self) -> str:
        at = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        entries = [
            {
                "id": f"e{i}",
                "n": i,
                "at": at,
                "payload": {"k": [1, {"z": None}], "big": Int64(2**40)},
            }
            for i in (1, 2)
        ]
        await self._outbox_doc()
        await self.db.agg.update_one(
            {"_id": 1}, {"$set": {"outbox": [*entries, {"id": "e3", "n": 3}]}}
        )
        stored = await self.db.agg.find_one({"_id": 1})
        assert stored is not None
        sent = stored["outbox"][:2]  # what an outbox relay read and published
        result = await self.db.agg.update_one({"_id": 1}, {"$pullAll": {"outbox": sent}})
        doc = await self.db.agg.find_one({"_id": 1})
        assert doc is not None
        expect([e["id"] for e in doc["outbox"]] == ["e3"], doc)
        reordered = [{"n": 3, "id": "e3"}]
        again = await self.db.agg.update_one({"_id": 1}, {"$pullAll": {"outbox": reordered}})
        expect(again.modified_count == 0, "key order ignored")
        return (
            f"$pullAll with read-back subdocuments removes them (modified "
            f"{result.modified_count}); key order matters, as in MongoDB"
        )

    async def add_to_set(self) -> str:
        c = self.db.sets
        await c.insert_one({"_id": 1})
        for update in (
            {"$addToSet": {"tags": "x"}},
            {"$addToSet": {"tags": "x"}},
            {"$addToSet": {"tags": {"$each": ["x", "y", "z"]}}},
            {"$addToSet": {"subs": {"id": 1}}},
            {"$addToSet": {"subs": {"id": 1}}},
        ):
            await c.update_one({"_id": 1}, update)
        doc = await c.find_one({"_id": 1})
        expect(doc == {"_id": 1, "tags": ["x", "y", "z"], "subs": [{"id": 1}]}, doc)
        return "scalar, $each, subdocument; duplicates skipped"

    async def conditional_update(self) -> str:
        c = self.db.versions
        await c.insert_one({"_id": "p1", "version": 1, "name": "a"})
        update = {"$set": {"name": "b"}, "$inc": {"version": 1}}
        fresh = await c.update_one({"_id": "p1", "version": 1}, update)
        stale = await c.update_one({"_id": "p1", "version": 1}, update)
        expect(fresh.matched_count == 1 and fresh.modified_count == 1, fresh.raw_result)
        expect(stale.matched_count == 0 and stale.modified_count == 0, stale.raw_result)
        return "fresh matched 1, stale matched 0 (sequentially; see the race checks)"

    async def inc(self) -> str:
        c = self.db.versions
        await c.update_one({"_id": "p1"}, {"$inc": {"count": 5, "stats.views": 2}})
        await c.update_one({"_id": "p1"}, {"$inc": {"count": -1, "stats.views": 1.5}})
        doc = await c.find_one({"_id": "p1"})
        expect(doc is not None and doc["count"] == 4 and doc["stats"]["views"] == 3.5, doc)
        return "int, negative, float, nested, missing field"

    async def set_nested(self) -> str:
        c = self.db.versions
        await c.update_one(
            {"_id": "p1"},
            {"$set": {"profile.bio": "hi", "profile.skills.python": 3, "s.a.b.c": True}},
        )
        await c.update_one({"_id": "p1"}, {"$unset": {"s.a.b": ""}})
        doc = await c.find_one({"_id": "p1"})
        assert doc is not None
        expect(doc["profile"] == {"bio": "hi", "skills": {"python": 3}}, doc)
        expect(doc["s"] == {"a": {}}, doc)
        expect(await c.find_one({"profile.skills.python": {"$gte": 3}}) is not None, "dotted")
        await c.update_one({"_id": "p1"}, {"$set": {"arr": [{"x": 1}, {"x": 2}]}})
        await c.update_one({"_id": "p1"}, {"$set": {"arr.1.x": 9}})
        doc = await c.find_one({"_id": "p1"})
        expect(doc is not None and doc["arr"][1]["x"] == 9, doc)
        return "$set a.b.c creates parents, $unset nested, arr.1.x, dotted query"

    async def positional(self) -> str:
        c = self.db.versions
        await c.update_one({"_id": "p1", "arr.x": 9}, {"$set": {"arr.$.x": 10}})
        doc = await c.find_one({"_id": "p1"})
        expect(doc is not None and doc["arr"][1]["x"] == 10, doc)
        return "ok"

    async def other_update_ops(self) -> str:
        c = self.db.ops
        await c.insert_one({"_id": 1, "a": 2, "b": 2, "c": 2, "d": 1})
        await c.update_one(
            {"_id": 1},
            {"$max": {"a": 10}, "$min": {"b": -1}, "$mul": {"c": 3}, "$rename": {"d": "e"}},
        )
        await c.update_one({"_id": 1}, {"$currentDate": {"ts": True}})
        doc = await c.find_one({"_id": 1})
        assert doc is not None
        expect((doc["a"], doc["b"], doc["c"], doc["e"]) == (10, -1, 6, 1), doc)
        expect(isinstance(doc["ts"], datetime), doc)
        return "$max $min $mul $rename $currentDate"

    async def update_pipeline(self) -> str:
        await self.db.ops.update_one({"_id": 1}, [{"$set": {"z": 1}}])
        return "ok"

    async def bulk_write_upserts(self) -> str:
        c = self.db.bulk
        first = await c.bulk_write(
            [
                UpdateOne(
                    {"_id": f"k{i}"}, {"$set": {"v": i}, "$setOnInsert": {"c": 0}}, upsert=True
                )
                for i in range(5)
            ],
            ordered=False,
        )
        expect(first.upserted_count == 5, first.bulk_api_result)
        mixed = await c.bulk_write(
            [UpdateOne({"_id": f"k{i}"}, {"$inc": {"c": 1}}, upsert=True) for i in range(3, 7)]
        )
        expect(mixed.matched_count == 2 and mixed.upserted_count == 2, mixed.bulk_api_result)
        other = await c.bulk_write([InsertOne({"_id": "z"}), DeleteOne({"_id": "k0"})])
        expect(other.inserted_count == 1 and other.deleted_count == 1, other.bulk_api_result)
        return (
            f"upserted 5; then matched 2 + upserted {sorted((mixed.upserted_ids or {}).values())}"
        )

    async def bulk_write_duplicate(self) -> str:
        try:
            await self.db.users.bulk_write(
                [
                    InsertOne({"email": "q@x"}),
                    InsertOne({"email": "q@x"}),
                    InsertOne({"email": "r@x"}),
                ],
                ordered=False,
            )
        except BulkWriteError as exc:
            codes = [e["code"] for e in exc.details["writeErrors"]]
            n = await self.db.users.count_documents({"email": {"$in": ["q@x", "r@x"]}})
            expect(codes == [11000] and n == 2, (codes, n))
            return "BulkWriteError [11000], the other 2 inserted"
        raise WrongResultError("no BulkWriteError")

    # -- reads --------------------------------------------------------------------

    async def _items(self) -> None:
        if await self.db.items.estimated_document_count() == 0:
            await self.db.items.insert_many([{"i": i, "g": i % 3} for i in range(20)])

    async def sort_skip_limit(self) -> str:
        await self._items()
        cursor = self.db.items.find({"i": {"$gte": 2}}).sort([("g", 1), ("i", -1)]).skip(3).limit(4)
        page = [d["i"] async for d in cursor]
        expected = sorted(range(2, 20), key=lambda i: (i % 3, -i))[3:7]
        expect(page == expected, (page, expected))
        projected = await self.db.items.find_one({"i": 5}, {"_id": 0, "g": 1})
        expect(projected == {"g": 2}, projected)
        return f"two-key sort, skip 3, limit 4 -> {page}; projection"

    async def count_documents(self) -> str:
        await self._items()
        n = await self.db.items.count_documents({"g": 1})
        windowed = await self.db.items.count_documents({"i": {"$gte": 5}}, skip=2, limit=3)
        estimated = await self.db.items.estimated_document_count()
        expect((n, windowed, estimated) == (7, 3, 20), (n, windowed, estimated))
        return "filter, skip/limit, estimated_document_count"

    async def query_operators(self) -> str:
        await self._outbox_doc()
        c = self.db.agg
        counts = {
            "$in": await c.count_documents({"tags": {"$in": ["b", "zz"]}}),
            "$exists": await c.count_documents({"missing": {"$exists": False}}),
            "$regex": await c.count_documents({"tags": {"$regex": "^c"}}),
            "$or": await c.count_documents({"$or": [{"tags": "zz"}, {"nums": 5}]}),
            "dotted array": await c.count_documents({"outbox.id": "e2"}),
            "$size": await c.count_documents({"tags": {"$size": 3}}),
            "$all": await c.count_documents({"nums": {"$all": [1, 9]}}),
            "$elemMatch scalar": await c.count_documents({"nums": {"$elemMatch": {"$gt": 8}}}),
        }
        expect(all(v == 1 for v in counts.values()), counts)
        return ", ".join(counts)

    async def elem_match_subdoc(self) -> str:
        await self._outbox_doc()
        n = await self.db.agg.count_documents({"outbox": {"$elemMatch": {"id": "e2"}}})
        expect(n == 1, f"matched {n} documents, no error")
        return "ok"

    async def datetimes(self) -> str:
        c = self.db.events
        base = datetime(2025, 1, 1, tzinfo=UTC)
        await c.insert_many([{"i": i, "at": base + timedelta(hours=i)} for i in range(10)])
        n = await c.count_documents(
            {"at": {"$gte": base + timedelta(hours=3), "$lt": base + timedelta(hours=7)}}
        )
        latest = await c.find_one({"at": {"$lt": base + timedelta(hours=2)}}, sort=[("at", -1)])
        expect(n == 4, n)
        expect(latest is not None and latest["at"] == base + timedelta(hours=1), latest)
        precise = datetime(2025, 5, 5, 12, 0, 0, 123456, tzinfo=UTC)
        await c.insert_one({"_id": "ms", "at": precise})
        back = await c.find_one({"_id": "ms"})
        expect(back is not None and back["at"] == precise.replace(microsecond=123000), back)
        return "range $gte/$lt, sort on dates, tz-aware round trip, millisecond precision"

    # -- aggregation --------------------------------------------------------------

    async def _aggregate(self, pipeline: list[Doc], collection: str = "items") -> list[Doc]:
        await self._items()
        return [d async for d in await self.db[collection].aggregate(pipeline)]

    async def aggregate_basic(self) -> str:
        out = await self._aggregate(
            [
                {"$match": {"i": {"$lt": 10}}},
                {"$group": {"_id": "$g", "total": {"$sum": "$i"}}},
                {"$sort": {"total": -1}},
            ]
        )
        expect(
            out == [{"_id": 0, "total": 18}, {"_id": 2, "total": 15}, {"_id": 1, "total": 12}], out
        )
        counted = await self._aggregate(
            [{"$group": {"_id": "$g", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
        )
        expect(counted == [{"_id": 0, "n": 7}, {"_id": 1, "n": 7}, {"_id": 2, "n": 6}], counted)
        return "$match + $group (one accumulator: $sum '$field' or $sum 1) + $sort"

    async def aggregate_two_accumulators(self) -> str:
        out = await self._aggregate(
            [
                {"$match": {"i": {"$lt": 10}}},
                {"$group": {"_id": "$g", "n": {"$sum": 1}, "total": {"$sum": "$i"}}},
                {"$sort": {"_id": 1}},
            ]
        )
        expected = [
            {"_id": 0, "n": 4, "total": 18},
            {"_id": 1, "n": 3, "total": 12},
            {"_id": 2, "n": 3, "total": 15},
        ]
        expect(out == expected, f"only the first accumulator is computed, the others are 0: {out}")
        return "ok"

    async def aggregate_count_acc(self) -> str:
        out = await self._aggregate([{"$group": {"_id": None, "n": {"$count": {}}}}])
        expect(out == [{"_id": None, "n": 20}], out)
        return "ok"

    async def aggregate_other_acc(self) -> str:
        failing = []
        for acc in ("$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet"):
            try:
                await self._aggregate([{"$group": {"_id": "$g", "x": {acc: "$i"}}}])
            except PyMongoError:
                failing.append(acc)
        expect(not failing, f"NotImplemented (code 238): {' '.join(failing)}")
        return "ok"

    async def aggregate_stages(self) -> str:
        out = await self._aggregate(
            [
                {"$match": {"g": 0}},
                {"$sort": {"i": 1}},
                {"$skip": 1},
                {"$limit": 3},
                {"$project": {"_id": 0, "i": 1}},
                {"$count": "n"},
            ]
        )
        expect(out == [{"n": 3}], out)
        unwound = await self._aggregate([{"$unwind": "$outbox"}], collection="agg")
        expect(len(unwound) == 3, unwound)
        return "$sort $skip $limit $project(inclusion) $count $unwind"

    async def aggregate_field_paths(self) -> str:
        out = await self._aggregate([{"$match": {"i": 1}}, {"$project": {"_id": 0, "v": "$i"}}])
        expect(out == [{"v": 1}], f"literal string instead of the field value: {out}")
        return "ok"

    async def aggregate_lookup(self) -> str:
        await self._aggregate(
            [{"$lookup": {"from": "agg", "localField": "i", "foreignField": "_id", "as": "j"}}]
        )
        return "ok"

    # -- deletes, sessions -------------------------------------------------------

    async def delete_many(self) -> str:
        await self._items()
        result = await self.db.items.delete_many({"g": 2})
        left = await self.db.items.count_documents({})
        expect(result.deleted_count == 6 and left == 14, (result.deleted_count, left))
        return "deleted_count correct"

    async def transactions(self) -> str:
        async with self.client.start_session() as session, await session.start_transaction():
            await self.db.tx.insert_one({"a": 1}, session=session)
        return "ok"

    async def change_streams(self) -> str:
        async with await self.db.items.watch():
            return "ok"

    # -- atomicity under concurrency ------------------------------------------------

    async def race_conditional_update(self) -> str:
        c = self.db.race
        extra = 0
        for trial in range(10):
            await c.insert_one({"_id": trial, "version": 1})
            results = await asyncio.gather(
                *(
                    c.update_one(
                        {"_id": trial, "version": 1},
                        {"$set": {"owner": w}, "$inc": {"version": 1}},
                    )
                    for w in range(20)
                )
            )
            extra += sum(r.matched_count for r in results) > 1
        expect(extra == 0, f"{extra}/10 trials had >1 winner among 20 concurrent writers")
        return "exactly one winner"

    async def race_inc(self) -> str:
        c = self.db.race
        await c.insert_one({"_id": "n", "n": 0})
        await asyncio.gather(*(c.update_one({"_id": "n"}, {"$inc": {"n": 1}}) for _ in range(200)))
        doc = await c.find_one({"_id": "n"})
        expect(doc is not None and doc["n"] == 200, f"200 concurrent $inc -> {doc}")
        return "ok"

    async def race_claim(self) -> str:
        c = self.db.jobs
        await c.insert_many([{"_id": i, "s": "ready"} for i in range(5)])
        claimed = await asyncio.gather(
            *(c.find_one_and_update({"s": "ready"}, {"$set": {"s": w}}) for w in range(20))
        )
        ids = sorted(d["_id"] for d in claimed if d is not None)
        expect(ids == [0, 1, 2, 3, 4], f"5 jobs handed out {len(ids)} times: {ids}")
        return "ok"

    async def race_unique_insert(self) -> str:
        c = self.db.idem
        await c.create_index("key", unique=True)

        async def insert(key: str) -> int:
            try:
                await c.insert_one({"key": key})
            except DuplicateKeyError:
                return 0
            return 1

        wrong = 0
        for trial in range(10):
            wins = sum(await asyncio.gather(*(insert(f"k{trial}") for _ in range(20))))
            wrong += wins != 1
        expect(wrong == 0, f"{wrong}/10 trials without exactly one winner")
        return "exactly one of 20 concurrent inserts wins; the rest get DuplicateKeyError"

    async def race_upsert_missing(self) -> str:
        c = self.db.ups
        errors = 0
        for trial in range(10):
            results = await asyncio.gather(
                *(c.update_one({"_id": trial}, {"$set": {"w": w}}, upsert=True) for w in range(10)),
                return_exceptions=True,
            )
            errors += sum(isinstance(r, DuplicateKeyError) for r in results)
        expect(errors == 0, f"{errors}/100 concurrent upserts of a missing _id: DuplicateKeyError")
        return "ok"


CHECKS: list[tuple[str, Callable[[Probe], Awaitable[str]]]] = [
    ("unique index, duplicate insert -> DuplicateKeyError", Probe.unique_index),
    ("unique index enforced by upsert", Probe.unique_on_update),
    ("unique index, two docs missing the field", Probe.unique_missing_field),
    ("compound index (and compound unique)", Probe.compound_index),
    ("sparse unique index", Probe.sparse_unique),
    ("partial index (partialFilterExpression)", Probe.partial_index),
    ("TTL index (expireAfterSeconds)", Probe.ttl_index),
    ("find_one_and_update upsert + ReturnDocument.AFTER", Probe.find_one_and_update_upsert),
    ("find_one_and_update with sort", Probe.find_one_and_update_sort),
    ("$push, $push $each", Probe.push),
    ("$push $each + $slice", Probe.push_slice),
    ("$push $each + $position", Probe.push_position_sort),
    ("$pull scalar equality", Probe.pull_scalar),
    ("$pull whole subdocument", Probe.pull_exact_subdoc),
    ('$pull {"outbox": {"id": {"$in": [...]}}}', Probe.pull_subdoc_in),
    ('$pull {"outbox": {"id": "e1"}} (partial subdocument)', Probe.pull_subdoc_partial),
    ('$pull {"nums": {"$gte": 5}}', Probe.pull_scalar_condition),
    ("$pullAll with read-back subdocuments", Probe.pull_all),
    ("$addToSet", Probe.add_to_set),
    ("conditional update on version, stale -> matched 0", Probe.conditional_update),
    ("$inc", Probe.inc),
    ("$set / $unset on nested fields", Probe.set_nested),
    ("positional $ update (arr.$.x)", Probe.positional),
    ("$max $min $mul $rename $currentDate", Probe.other_update_ops),
    ("update with aggregation pipeline", Probe.update_pipeline),
    ("bulk_write with UpdateOne upserts", Probe.bulk_write_upserts),
    ("bulk_write unordered with a duplicate", Probe.bulk_write_duplicate),
    ("find: sort + skip + limit, projection", Probe.sort_skip_limit),
    ("count_documents", Probe.count_documents),
    ("query operators", Probe.query_operators),
    ('$elemMatch on subdocuments {"outbox": {"$elemMatch": {"id": ...}}}', Probe.elem_match_subdoc),
    ("$lt / $gte on datetimes", Probe.datetimes),
    ("aggregate $match / $group ($sum) / $sort", Probe.aggregate_basic),
    ("aggregate $group with two accumulators", Probe.aggregate_two_accumulators),
    ("aggregate $group $count accumulator", Probe.aggregate_count_acc),
    ("aggregate $group $avg/$min/$max/$first/$last/$push/$addToSet", Probe.aggregate_other_acc),
    ("aggregate $skip/$limit/$project/$count/$unwind", Probe.aggregate_stages),
    ('aggregate $project {"v": "$i"} (field path)', Probe.aggregate_field_paths),
    ("aggregate $lookup", Probe.aggregate_lookup),
    ("delete_many", Probe.delete_many),
    ("multi-document transactions", Probe.transactions),
    ("change streams (watch)", Probe.change_streams),
    ("RACE: 20 concurrent conditional updates, one winner", Probe.race_conditional_update),
    ("RACE: 200 concurrent $inc on one document", Probe.race_inc),
    ("RACE: 20 workers claim 5 jobs via find_one_and_update", Probe.race_claim),
    ("RACE: 20 concurrent inserts of one unique key", Probe.race_unique_insert),
    ("RACE: 10 concurrent upserts of a missing _id", Probe.race_upsert_missing),
]


async def main(url: str) -> int:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=5000, tz_aware=True, maxPoolSize=50
    )
    info = await client.admin.command("buildInfo")
    version = info.get("ferretdbVersion", "-")
    stages = info.get("ferretdbFeatures", {}).get("aggregationStages", "-")
    print(f"server: MongoDB {info.get('version')} (FerretDB {version}) at {url}")
    print(f"aggregation stages it lists: {stages}\n")
    print("| check | result | detail |\n| --- | --- | --- |")
    await client.drop_database(DB)
    probe = Probe(client)
    failures = 0
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            detail, ok = await check(probe), True
        except WrongResultError as exc:
            detail, ok = f"WRONG RESULT: {exc}", False
        except PyMongoError as exc:
            detail, ok = f"{type(exc).__name__}: {str(exc).split(', full error')[0]}", False
        failures += not ok
        took = time.monotonic() - started
        detail = detail.replace("|", "\\|")
        print(f"| {name} | {'ok' if ok else 'FAIL'} | {detail} ({took:.2f}s) |")
    await client.drop_database(DB)
    await client.close()
    print(f"\n{len(CHECKS) - failures} ok, {failures} FAIL")
    return 0


if __name__ == "__main__":
    port = os.environ.get("PEERLOOP_MONGO_PORT", "27017")
    default = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else default)))
