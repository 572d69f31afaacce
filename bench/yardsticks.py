"""The broker's own yardsticks: Kafka's perf tools against the same broker, on a scratch topic."""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaAdminClient,
    NewTopic,
)
from peerloop_cli.infra.jvm import java_binary
from peerloop_cli.infra.kafka import ensure_jars

from bench.report import print_table

RECORD_SIZE = 500
SERVICE_TOPIC_PARTITIONS = 6
"""Like the event topics in deploy/topics.yaml, so the producer spreads the same way."""

_PRODUCED = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th"
)
_E2E_AVG = re.compile(r"Avg latency: ([\d.]+) ms")
_E2E_PCT = re.compile(r"50th = ([\d.]+), 99th = ([\d.]+)")


@dataclass(frozen=True)
class Sizes:
    records: int = 200_000
    latency_records: int = 2_000


async def _create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    await asyncio.sleep(1.0)  # leaders are elected asynchronously


async def _delete_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([name])
    finally:
        await admin.close()


def _tool(main_class: str, *args: str, timeout: float = 600) -> str:
    libs = ensure_jars()
    argv = [java_binary(), "-Xmx384m", "-cp", str(libs / "*"), main_class, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{main_class} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def producer_performance(bootstrap: str, topic: str, records: int) -> dict[str, float]:
    out = _tool(
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(RECORD_SIZE),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
    )
    summaries = list(_PRODUCED.finditer(out))  # progress lines first, the summary last
    if not summaries:
        raise RuntimeError(f"unexpected ProducerPerformance output:\n{out[-2000:]}")
    match = summaries[-1]
    return {
        "records": float(match.group(1)),
        "records_per_s": float(match.group(2)),
        "mb_per_s": float(match.group(3)),
        "avg_ms": float(match.group(4)),
        "p50_ms": float(match.group(6)),
        "p99_ms": float(match.group(8)),
    }


def consumer_performance(bootstrap: str, topic: str, records: int) -> dict[str, float]:
    out = _tool(
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--group",
        f"bench-perf-{uuid.uuid4().hex[:6]}",
    )
    lines = [line for line in out.splitlines() if "," in line]
    header, values = lines[-2], lines[-1]
    row = dict(
        zip(
            (h.strip() for h in header.split(",")),
            (v.strip() for v in values.split(",")),
            strict=True,
        )
    )
    return {
        "records": float(row["data.consumed.in.nMsg"]),
        "records_per_s": float(row["nMsg.sec"]),
        "fetch_records_per_s": float(row["fetch.nMsg.sec"]),
        "mb_per_s": float(row["MB.sec"]),
    }


def end_to_end_latency(bootstrap: str, topic: str, records: int) -> dict[str, float]:
    out = _tool(
        "org.apache.kafka.tools.EndToEndLatency",
        bootstrap,
        topic,
        str(records),
        "all",
        str(RECORD_SIZE),
    )
    avg, pct = _E2E_AVG.search(out), _E2E_PCT.search(out)
    if avg is None or pct is None:
        raise RuntimeError(f"unexpected EndToEndLatency output:\n{out[-2000:]}")
    return {
        "avg_ms": float(avg.group(1)),
        "p50_ms": float(pct.group(1)),
        "p99_ms": float(pct.group(2)),
    }


async def measure(bootstrap: str, sizes: Sizes) -> dict[str, Any]:
    """Producer and consumer throughput and end-to-end latency at 500-byte records, acks=all."""
    tag = uuid.uuid4().hex[:6]
    throughput_topic, latency_topic = f"bench.scratch-{tag}", f"bench.scratch-latency-{tag}"
    await _create_topic(bootstrap, throughput_topic, SERVICE_TOPIC_PARTITIONS)
    # EndToEndLatency insists on a single partition.
    await _create_topic(bootstrap, latency_topic, 1)
    try:
        produced = await asyncio.to_thread(
            producer_performance, bootstrap, throughput_topic, sizes.records
        )
        consumed = await asyncio.to_thread(
            consumer_performance, bootstrap, throughput_topic, sizes.records
        )
        latency = await asyncio.to_thread(
            end_to_end_latency, bootstrap, latency_topic, sizes.latency_records
        )
    finally:
        await _delete_topic(bootstrap, throughput_topic)
        await _delete_topic(bootstrap, latency_topic)
    print_table(
        f"Yardsticks: Kafka's perf tools, {RECORD_SIZE}-byte records, acks=all",
        ["tool", "records", "records/s", "MB/s", "p50 ms", "p99 ms"],
        [
            [
                "ProducerPerformance",
                int(produced["records"]),
                produced["records_per_s"],
                produced["mb_per_s"],
                produced["p50_ms"],
                produced["p99_ms"],
            ],
            [
                "ConsumerPerformance (fetch)",
                int(consumed["records"]),
                consumed["fetch_records_per_s"],
                consumed["mb_per_s"],
                float("nan"),
                float("nan"),
            ],
            [
                "EndToEndLatency",
                sizes.latency_records,
                float("nan"),
                float("nan"),
                latency["p50_ms"],
                latency["p99_ms"],
            ],
        ],
    )
    print(
        "verdict yardsticks: the broker takes "
        f"{produced['records_per_s']:,.0f} records/s in and serves "
        f"{consumed['fetch_records_per_s']:,.0f} records/s out; one record produce→consume "
        f"p50 {latency['p50_ms']:.1f} ms",
        flush=True,
    )
    return {"producer": produced, "consumer": consumed, "end_to_end": latency}
