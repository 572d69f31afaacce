"""The platform under test: the local stack, the three services, their CPU and their counters."""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped, unused-ignore]
from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import topics_file
from peerloop_cli.infra.topics import load_topics
from peerloop_cli.platform import SERVICE_NAMES, Deployment
from peerloop_contracts.base import Event
from peerloop_contracts.matching import FeedbackGiven, HelpRequested, SessionCompleted
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_notifications.domain.routing import NOTIFYING_EVENTS

# What each service subscribes to (mirrors the handlers each service registers).
CONSUMED: dict[str, tuple[type[Event], ...]] = {
    "matching": (
        ProfileRegistered,
        ProfileUpdated,
        AvailabilityChanged,
        SkillOffered,
        SkillWithdrawn,
        SkillAcquired,
        ProfileErased,
        FeedbackGiven,
        HelpRequested,
    ),
    "notifications": (
        ProfileRegistered,
        ProfileUpdated,
        AvailabilityChanged,
        ProfileErased,
        *NOTIFYING_EVENTS,
    ),
    "profiles": (SessionCompleted,),
}


def consumer_groups(deployment: Deployment) -> dict[str, tuple[type[Event], ...]]:
    """Each consumer group of a deployment and the events it reads (as the services name them)."""
    prefix = deployment.group_prefix
    matching = CONSUMED["matching"]
    return {
        f"{prefix}matching.candidates": tuple(e for e in matching if e is not HelpRequested),
        f"{prefix}matching.requests": (HelpRequested,),
        f"{prefix}notifications": CONSUMED["notifications"],
        f"{prefix}profiles": CONSUMED["profiles"],
    }


_TICKS = os.sysconf("SC_CLK_TCK")
_CONSUMED = re.compile(r'^peerloop_events_consumed_total\{[^}]*topic="([^"]+)"[^}]*\}\s+(\S+)$')


def start_stack() -> stack.Endpoints:
    """The servers the bench runs against.

    `MONGODB_URI` and `KAFKA_BOOTSTRAP_SERVERS`, when set, name servers run
    elsewhere (a real MongoDB, say): those are used as they are and nothing is
    started for them. With both set nothing is started at all (the identity
    provider is then `PEERLOOP_OIDC_ISSUER`, or the local Keycloak's address).
    Otherwise the local stack runs on the PEERLOOP_* ports (a no-op when it
    already runs) and stands in for whichever is not set.
    """
    mongodb_uri = os.environ.get("MONGODB_URI", "").strip()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if mongodb_uri and bootstrap:
        local = stack.endpoints()
        issuer = os.environ.get("PEERLOOP_OIDC_ISSUER", "").strip() or local.oidc_issuer
        print(f"  infra: given servers, Kafka {bootstrap}, store {mongodb_uri}", flush=True)
        return stack.Endpoints(
            kafka_bootstrap=bootstrap, mongodb_uri=mongodb_uri, oidc_issuer=issuer
        )
    started = stack.up(lambda line: print(f"  infra: {line}", flush=True))
    return stack.Endpoints(
        kafka_bootstrap=bootstrap or started.kafka_bootstrap,
        mongodb_uri=mongodb_uri or started.mongodb_uri,
        oidc_issuer=started.oidc_issuer,
    )


def store_kind(mongodb_uri: str) -> str:
    """Which store a run measured: the figures of the local store and MongoDB differ a lot."""
    local = stack.endpoints().mongodb_uri
    return "local (mongo-java-server on H2)" if mongodb_uri == local else "given by MONGODB_URI"


def new_deployment(label: str) -> Deployment:
    """Services with their own databases and consumer groups, so runs never share state.

    Ports come from PEERLOOP_{PROFILES,MATCHING,NOTIFICATIONS,SMTP}_PORT like `peerloop up`.
    """
    tag = uuid.uuid4().hex[:6]
    return Deployment(
        prefix=f"bench-{label}",
        web_port=None,
        database_prefix=f"bench_{label}_{tag}_",
        group_prefix=f"bench-{label}-{tag}-",
        extra_env={
            # Proposals must not expire and re-match during a run.
            "PEERLOOP_PROPOSAL_TTL_SECONDS": "86400",
            "PEERLOOP_LOG_LEVEL": "WARNING",
            # The load comes from a few requesters on purpose (wrk asks as one person):
            # the benchmark measures the services, not the limits per person.
            "PEERLOOP_RATE_LIMIT__ENABLED": "false",
        },
    )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (not wall time), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class CpuMeter:
    """CPU seconds each service process spent between `start` and `stop`."""

    deployment: Deployment
    started: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        found = {s: self.deployment.process(s).pid() for s in SERVICE_NAMES}
        return {s: p for s, p in found.items() if p is not None}

    def start(self) -> None:
        self.started = {s: process_cpu_seconds(p) for s, p in self.pids().items()}

    def stop(self) -> dict[str, float]:
        now = {s: process_cpu_seconds(p) for s, p in self.pids().items()}
        self.spent = {s: now[s] - self.started[s] for s in now if s in self.started}
        return self.spent


async def events_consumed(http: httpx.AsyncClient, base_url: str) -> dict[str, float]:
    """The service's own count of handled events per topic (all its consumer groups)."""
    answer = await http.get(f"{base_url}/metrics")
    answer.raise_for_status()
    totals: dict[str, float] = {}
    for line in answer.text.splitlines():
        match = _CONSUMED.match(line)
        if match:
            totals[match.group(1)] = totals.get(match.group(1), 0.0) + float(match.group(2))
    return totals


def partitions(topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of event topics as declared in deploy/topics.yaml (auto-create is off)."""
    declared = {spec.name: spec.partitions for spec in load_topics(topics_file())}
    return [TopicPartition(t, p) for t in topics for p in range(declared[t])]


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[str, int]:
    """Records ever written to each topic (sum over partitions of the high watermark)."""
    wanted = list(topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        highs = await consumer.end_offsets(partitions(wanted))
    finally:
        await consumer.stop()
    totals = dict.fromkeys(wanted, 0)
    for tp, high in highs.items():
        totals[tp.topic] += high
    return totals


async def skip_history(bootstrap: str, deployment: Deployment) -> None:
    """Commit the deployment's groups at the topics' ends, so it starts with this run's events.

    New groups read from the earliest offset, and the store is slow enough that the
    history of earlier runs would take minutes to replay.
    """
    for group, events in consumer_groups(deployment).items():
        topics = sorted({e.topic() for e in events})
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            assigned = partitions(topics)
            consumer.assign(assigned)
            highs = await consumer.end_offsets(assigned)
            await consumer.commit(dict(highs.items()))
        finally:
            await consumer.stop()


async def wait_consumed(
    http: httpx.AsyncClient,
    base_url: str,
    expected: dict[str, int],
    within_s: float,
) -> dict[str, float]:
    """Until the service has handled as many events per topic as the topics hold."""
    deadline = time.monotonic() + within_s
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        seen = await events_consumed(http, base_url)
        if all(seen.get(t, 0) >= n for t, n in expected.items()):
            return seen
        await asyncio.sleep(0.25)
    behind = {t: (seen.get(t, 0), n) for t, n in expected.items() if seen.get(t, 0) < n}
    raise TimeoutError(f"{base_url} did not catch up within {within_s:.0f}s: {behind}")
