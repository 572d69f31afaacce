"""What a point lookup costs with `_id` alone and with a second condition.

`python -m bench.store_filters [--docs 1000] [--rounds 15]` against the store in
MONGODB_URI (default: the local one, which must be running: `peerloop infra up`).
It fills a scratch database with documents shaped like a help request (~2.5 KB),
times each kind of filter in shuffled rounds, prints medians, and drops the
database. On MongoDB every row costs about the same; on the local store
(mongo-java-server) only `_id` alone is a point lookup
(deploy/local/mongo-java-server/FEATURES.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from peerloop_cli.infra import stack
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, object]
Case = Callable[[AsyncCollection[Doc], str], Awaitable[object]]

CASES: dict[str, Case] = {
    "find_one {_id}": lambda c, k: c.find_one({"_id": k}),
    "find_one {_id, version}": lambda c, k: c.find_one({"_id": k, "version": 1}),
    "update_one {_id}": lambda c, k: c.update_one({"_id": k}, {"$set": {"x": 1}}),
    "update_one {_id, version}": lambda c, k: c.update_one(
        {"_id": k, "version": 1}, {"$set": {"x": 1}}
    ),
    "update_one {_id, lease.owner}": lambda c, k: c.update_one(
        {"_id": k, "lease.owner": "o"}, {"$set": {"x": 1}}
    ),
    "find_one_and_update {_id, $or}": lambda c, k: c.find_one_and_update(
        {"_id": k, "$or": [{"lease.until": {"$exists": False}}, {"lease.owner": "o"}]},
        {"$set": {"y": 1}},
    ),
    "insert_one (new _id)": lambda c, _k: c.insert_one({"_id": uuid.uuid4().hex, "x": 1}),
}


def _document(n: int) -> Doc:
    breakdown = [{"name": f"c{i}", "explanation": "x" * 80, "value": 0.5} for i in range(7)]
    return {
        "_id": f"r-{n}",
        "version": 1,
        "task": "t" * 200,
        "proposals": [{"helper_id": "h", "breakdown": breakdown}],
        "lease": {"owner": "o", "until": datetime.now(UTC)},
        "outbox": [{"id": f"e{n}", "payload": "p" * 600}],
    }


async def measure(uri: str, docs: int, rounds: int) -> dict[str, float]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True)
    name = f"bench_filters_{uuid.uuid4().hex[:8]}"
    collection = client[name]["docs"]
    try:
        await collection.insert_many([_document(n) for n in range(docs)])
        timings: dict[str, list[float]] = {case: [] for case in CASES}
        for _ in range(rounds):
            for case, run in random.sample(list(CASES.items()), len(CASES)):
                key = f"r-{random.randrange(docs)}"
                started = time.perf_counter()
                await run(collection, key)
                timings[case].append(1000 * (time.perf_counter() - started))
        return {case: statistics.median(ms) for case, ms in timings.items()}
    finally:
        await client.drop_database(name)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI") or stack.endpoints().mongodb_uri
    medians = asyncio.run(measure(uri, args.docs, args.rounds))
    print(f"{args.docs} documents of ~2.5 KB, median of {args.rounds} (ms)")
    for case, ms in medians.items():
        print(f"  {case:34s} {ms:8.1f}")


if __name__ == "__main__":
    main()
