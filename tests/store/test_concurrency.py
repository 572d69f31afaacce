"""Concurrent writers of one document, each through its own client (as replicas are).

A store that applies an update as an unlocked read-modify-write fails these: two
version-guarded writers both win, `$inc`s and `$push`es are lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from peerloop_runtime.mongo import Document
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .conftest import CONNECTIONS

pytestmark = pytest.mark.integration

ROUNDS = 20
PER_CONNECTION = 25


async def test_version_guarded_update_one_has_exactly_one_winner(
    dbs: list[AsyncDatabase[Document]],
) -> None:
    await dbs[0].agg.insert_many([{"_id": r, "version": 1} for r in range(ROUNDS)])
    winners_per_round: list[int] = []
    for r in range(ROUNDS):
        results = await asyncio.gather(
            *(
                db.agg.update_one(
                    {"_id": r, "version": 1},
                    {"$set": {"winner": i}, "$inc": {"version": 1}},
                )
                for i, db in enumerate(dbs)
            )
        )
        winners_per_round.append(sum(result.modified_count for result in results))
    final = await dbs[0].agg.find({}, {"version": 1}).to_list()
    assert winners_per_round == [1] * ROUNDS, _rounds_summary(winners_per_round)
    assert {doc["version"] for doc in final} == {2}


async def test_version_guarded_find_one_and_update_hands_each_job_to_one_worker(
    dbs: list[AsyncDatabase[Document]],
) -> None:
    await dbs[0].jobs.insert_many([{"_id": r, "state": "ready"} for r in range(ROUNDS)])
    winners_per_round: list[int] = []
    for r in range(ROUNDS):
        taken = await asyncio.gather(
            *(
                db.jobs.find_one_and_update(
                    {"_id": r, "state": "ready"},
                    {"$set": {"state": "taken", "owner": i}},
                    return_document=ReturnDocument.AFTER,
                )
                for i, db in enumerate(dbs)
            )
        )
        winners_per_round.append(sum(doc is not None for doc in taken))
    assert winners_per_round == [1] * ROUNDS, _rounds_summary(winners_per_round)


async def test_no_inc_or_push_is_lost(dbs: list[AsyncDatabase[Document]]) -> None:
    await dbs[0].counters.insert_one({"_id": "c", "n": 0, "log": []})

    async def writer(db: AsyncDatabase[Document], i: int) -> None:
        for j in range(PER_CONNECTION):
            await db.counters.update_one(
                {"_id": "c"}, {"$inc": {"n": 1}, "$push": {"log": f"{i}-{j}"}}
            )

    await asyncio.gather(*(writer(db, i) for i, db in enumerate(dbs)))
    doc = await dbs[0].counters.find_one({"_id": "c"})
    assert doc is not None
    expected = CONNECTIONS * PER_CONNECTION
    assert (doc["n"], len(doc["log"]), len(set(doc["log"]))) == (expected, expected, expected), (
        f"lost {expected - doc['n']} of {expected} $inc, {expected - len(doc['log'])} $push"
    )


def _rounds_summary(winners_per_round: list[int]) -> str:
    wrong = [n for n in winners_per_round if n != 1]
    return (
        f"{len(wrong)} of {len(winners_per_round)} rounds without exactly one winner "
        f"(winners per round: {winners_per_round})"
    )


async def _upsert_as_the_services_do(db: AsyncDatabase[Document], key: str, i: int) -> None:
    """people_store.apply: an upsert whose loser of a creation race retries as an update."""
    newer = {"_id": key, "$or": [{"seq": {"$lt": i}}, {"seq": {"$exists": False}}]}
    change: dict[str, Any] = {"$set": {"seq": i}, "$inc": {"writes": 1}}
    try:
        await db.people.update_one(newer, change, upsert=True)
    except DuplicateKeyError:
        await db.people.update_one(newer, change)


async def test_concurrent_upserts_of_one_key_make_one_document(
    dbs: list[AsyncDatabase[Document]],
) -> None:
    for r in range(ROUNDS):
        key = f"p-{r}"
        # Any other exception than the handled DuplicateKeyError fails the test.
        await asyncio.gather(*(_upsert_as_the_services_do(db, key, i) for i, db in enumerate(dbs)))
        docs = await dbs[0].people.find({"_id": key}).to_list()
        assert len(docs) == 1
        # The newest sequence number wins whatever the order the writes arrived in.
        assert docs[0]["seq"] == CONNECTIONS - 1, f"round {r}: an older write won: {docs[0]}"
        assert 1 <= docs[0]["writes"] <= CONNECTIONS


async def test_find_one_and_update_upserts_of_one_key_count_every_call(
    dbs: list[AsyncDatabase[Document]],
) -> None:
    async def bump(db: AsyncDatabase[Document]) -> None:
        for _ in range(5):
            try:
                await db.load.find_one_and_update({"_id": "p"}, {"$inc": {"n": 1}}, upsert=True)
            except DuplicateKeyError:
                # Lost the creation race: the document now exists, so this is an update.
                await db.load.find_one_and_update({"_id": "p"}, {"$inc": {"n": 1}})

    await asyncio.gather(*(bump(db) for db in dbs))
    docs = await dbs[0].load.find({}).to_list()
    assert docs == [{"_id": "p", "n": CONNECTIONS * 5}], f"expected n={CONNECTIONS * 5}"


async def test_unique_index_admits_one_of_concurrent_inserts(
    dbs: list[AsyncDatabase[Document]],
) -> None:
    await dbs[0].processed.create_index(
        [("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True
    )

    async def insert(db: AsyncDatabase[Document], event: int, i: int) -> bool:
        try:
            await db.processed.insert_one({"consumer": "c", "event_id": event, "by": i})
        except DuplicateKeyError:
            return False
        return True

    for r in range(ROUNDS):
        won = await asyncio.gather(*(insert(db, r, i) for i, db in enumerate(dbs)))
        assert sum(won) == 1, f"round {r}: {sum(won)} inserts of one key succeeded"
    assert await dbs[0].processed.count_documents({}) == ROUNDS
