"""INSIGHTS: rebuilding the insights of a generated history of 1 million events.

`python -m bench.insights_replay [--events 1000000] [--people 20000]`, or
`python -m bench insights`. A seeded history (peerloop_insights.devtools.history) is
published to the event topics; then, from the offsets where it starts:

- the yardstick: a raw aiokafka `getmany` loop over the same topics doing what every
  consumer must (CloudEvents headers and `Event.decode` per record), committing per batch,
  writing nothing;
- the replay: a fresh insights service (own database and consumer group, in this process)
  consuming in batches of `--batch` records with one commit per batch, until it has every
  record, then folding the facts and computing every window's figures once.

Goal (issue #22): the replay, figures included, within 2 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

from aiokafka import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped, unused-ignore]
from peerloop_cli.infra import stack
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts.catalogue import BY_CE_TYPE
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_insights.bootstrap import bootstrap
from peerloop_insights.config import Settings
from peerloop_insights.devtools.history import History
from peerloop_insights.domain.changes import CONSUMED_EVENTS
from peerloop_insights.domain.figures import WINDOWS
from pymongo import AsyncMongoClient

from bench.report import print_table, verdict

GOAL_SECONDS = 120.0
TOPICS = sorted({e.topic() for e in CONSUMED_EVENTS})


async def _ends(bootstrap_servers: str) -> dict[Any, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(TOPICS)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _commit(bootstrap_servers: str, group: str, offsets: dict[Any, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def publish_history(bootstrap_servers: str, events: int, people: int) -> dict[str, float]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
        compression_type=None,
    )
    await producer.start()
    started = time.perf_counter()
    sent = 0
    try:
        pending = []
        for event, meta in History(people=people, seed=22).events(events):
            headers = [(k, v.encode()) for k, v in meta.to_headers().items()]
            pending.append(
                await producer.send(
                    event.topic(), event.to_json(), key=event.subject.encode(), headers=headers
                )
            )
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return {"events": sent, "seconds": time.perf_counter() - started}


async def raw_loop(bootstrap_servers: str, start: dict[Any, int], expected: int) -> float:
    """Seconds for the yardstick to read, check and decode every record, committing per batch."""
    group = f"bench-insights-raw-{uuid.uuid4().hex[:6]}"
    await _commit(bootstrap_servers, group, start)
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        max_poll_records=1000,
    )
    await consumer.start()
    handled = 0
    started = time.perf_counter()
    try:
        while handled < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for record in records:
                    meta = CloudEventMeta.from_headers(record.headers)
                    BY_CE_TYPE[meta.type].decode(record.value)
                    handled += 1
            if batches:
                await consumer.commit()
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def replay(
    endpoints: stack.Endpoints, start: dict[Any, int], expected: int, batch: int
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    group = f"bench-insights-{tag}"
    database = f"bench_insights_{tag}"
    await _commit(endpoints.kafka_bootstrap, group, start)
    settings = Settings(
        kafka_bootstrap_servers=endpoints.kafka_bootstrap,
        mongodb_uri=endpoints.mongodb_uri,
        database=database,
        consumer_group=group,
        batch_records=batch,
    )
    service = bootstrap(settings)
    started = time.perf_counter()
    await service.runtime.start()
    try:
        await eventually(
            lambda: service.consumer.stats.consumed >= expected, timeout=3600, what="the replay"
        )
        consumed_s = time.perf_counter() - started
        folding = time.perf_counter()
        await service.queries.refresh(force=True)
        figures = {w: await service.queries.figures(window=w, team=None) for w in WINDOWS}
        figures_s = time.perf_counter() - folding
        batches = await service.runtime.db["facts"].count_documents({})
    finally:
        await service.runtime.stop()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(endpoints.mongodb_uri)
        await client.drop_database(database)
        await client.close()
    everything = figures["all"]
    return {
        "consume_seconds": consumed_s,
        "figures_seconds": figures_s,
        "total_seconds": consumed_s + figures_s,
        "batches_written": batches,
        "dead_lettered": service.consumer.stats.dead_lettered,
        "sessions_completed": everything.outcomes.completed.value,
        "skills_shown": len(everything.skills),
        "team_pairs_shown": len(everything.flows),
    }


async def measure(
    endpoints: stack.Endpoints, events: int = 1_000_000, people: int = 20_000, batch: int = 1000
) -> dict[str, Any]:
    start = await _ends(endpoints.kafka_bootstrap)
    print(f"  publishing a history of {events:,} events …", flush=True)
    published = await publish_history(endpoints.kafka_bootstrap, events, people)
    expected = int(published["events"])
    print(f"  published in {published['seconds']:.0f}s; yardstick …", flush=True)
    raw_s = await raw_loop(endpoints.kafka_bootstrap, start, expected)
    print(f"  yardstick {raw_s:.1f}s; replay …", flush=True)
    result = await replay(endpoints, start, expected, batch)
    rate = expected / result["consume_seconds"]
    print_table(
        f"INSIGHTS: replaying {expected:,} events (batches of {batch}, one commit each)",
        ("measure", "seconds", "events/s", "vs yardstick"),
        [
            ("yardstick: read + decode only", raw_s, expected / raw_s, 1.0),
            ("replay: consumed and stored", result["consume_seconds"], rate,
             result["consume_seconds"] / raw_s),
            ("replay: facts folded, 4 windows of figures", result["figures_seconds"], "", ""),
            ("replay: total", result["total_seconds"], expected / result["total_seconds"],
             result["total_seconds"] / raw_s),
        ],
    )  # fmt: skip
    print(
        f"  {result['batches_written']:,} deltas written, {result['dead_lettered']} dead-lettered; "
        f"all time: {result['sessions_completed']} sessions, {result['skills_shown']} skills, "
        f"{result['team_pairs_shown']} team pairs shown"
    )
    total = float(result["total_seconds"])
    line = verdict(
        "insights replay", f"{total:.0f}s for {expected:,} events", "≤ 120 s", total <= GOAL_SECONDS
    )
    return {
        "events": expected,
        "publish_seconds": published["seconds"],
        "yardstick_seconds": raw_s,
        **result,
        "verdict": line,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    endpoints = stack.up()
    asyncio.run(measure(endpoints, args.events, args.people, args.batch))


if __name__ == "__main__":
    main()
