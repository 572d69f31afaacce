"""Scaling by partitions: replicas of one service share its consumer group.

Two separate processes run the platform's `EventConsumer` with the same group id
(as two replicas of a service do). Kafka splits the topic's partitions between
them, and together they handle every event exactly once; when one replica stops,
the other takes over its partitions from the committed offsets, so nothing is
handled twice and nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from peerloop_cli.infra.paths import topics_file
from peerloop_cli.infra.topics import load_topics
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.kafka import make_broker, publish_entry
from peerloop_runtime.outbox import outbox_entry

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("partition_worker.py")
TOPIC = SkillOffered.topic()
PARTITIONS = next(spec.partitions for spec in load_topics(topics_file()) if spec.name == TOPIC)


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    handled_file: Path
    assignment_file: Path
    log_file: Path
    stopped: bool = False

    def partitions(self) -> set[int]:
        try:
            return set(json.loads(self.assignment_file.read_text())["partitions"])
        except (FileNotFoundError, json.JSONDecodeError):
            return set()

    def handled(self) -> list[str]:
        if not self.handled_file.exists():
            return []
        lines = self.handled_file.read_text().splitlines()
        return [json.loads(line)["person_id"] for line in lines if line.strip()]

    def stop(self, timeout: float = 30.0) -> int:
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@dataclass
class Replicas:
    bootstrap: str
    group: str
    skill: str
    directory: Path
    started: list[Replica] = field(default_factory=list)

    def start(self, name: str) -> Replica:
        log = self.directory / f"{name}.log"
        replica = Replica(
            name=name,
            process=subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    "--bootstrap",
                    self.bootstrap,
                    "--group",
                    self.group,
                    "--skill",
                    self.skill,
                    "--handled",
                    str(self.directory / f"{name}.handled"),
                    "--assignment",
                    str(self.directory / f"{name}.assignment"),
                ],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            ),
            handled_file=self.directory / f"{name}.handled",
            assignment_file=self.directory / f"{name}.assignment",
            log_file=log,
        )
        self.started.append(replica)
        return replica

    def logs(self) -> str:
        return "\n".join(f"--- {r.name}\n{r.log_file.read_text()[-3000:]}" for r in self.started)


@pytest.fixture
async def replicas(kafka_bootstrap: str, run_id: str, tmp_path: Path) -> AsyncIterator[Replicas]:
    # Start at the topics' ends: replaying the broker's history would only add time.
    await start_groups_at_end(kafka_bootstrap, [f"test-scale-{run_id}"])
    group = Replicas(
        bootstrap=kafka_bootstrap,
        group=f"test-scale-{run_id}",
        skill=f"skill-{run_id}",
        directory=tmp_path,
    )
    yield group
    for replica in group.started:
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait(timeout=10)


@pytest.fixture
async def publish(kafka_bootstrap: str, run_id: str) -> AsyncIterator[Callable[..., object]]:
    broker = make_broker(kafka_bootstrap, client_id=f"test-scale-{run_id}")
    await broker.start()

    async def send(person_ids: list[str]) -> None:
        for person_id in person_ids:
            event = SkillOffered(
                person_id=person_id,
                skill_id=f"skill-{run_id}",
                skill_name="Partition scaling",
                level=3,
                weekly_capacity=2,
                sequence=1,
            )
            await publish_entry(broker, outbox_entry(event))

    yield send
    await broker.stop()


async def _until(check: Callable[[], bool], what: str, replicas: Replicas, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        for replica in replicas.started:
            if not replica.stopped and replica.process.poll() is not None:
                pytest.fail(
                    f"{replica.name} exited early while waiting for {what}\n{replicas.logs()}"
                )
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{replicas.logs()}")
        await asyncio.sleep(0.2)


async def _partitions_of(bootstrap: str, run_id: str, want: int) -> dict[str, int]:
    """Where the broker put each of this test's events: person id -> partition."""
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: dict[str, int] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    key = (record.key or b"").decode()
                    if run_id in key:
                        found[key] = record.partition
    finally:
        await consumer.stop()
    return found


def _split_between(a: Replica, b: Replica) -> bool:
    pa, pb = a.partitions(), b.partitions()
    return bool(pa) and bool(pb) and not pa & pb and pa | pb == set(range(PARTITIONS))


async def test_two_replicas_split_the_partitions_and_handle_every_event_once(
    replicas: Replicas, publish: Callable[..., object], kafka_bootstrap: str, run_id: str
) -> None:
    first = replicas.start("first")
    await _until(lambda: len(first.partitions()) == PARTITIONS, "first to own all", replicas, 90)
    second = replicas.start("second")
    await _until(lambda: _split_between(first, second), "a split", replicas, 90)

    people = [f"p-{run_id}-{i}" for i in range(120)]
    await publish(people)  # type: ignore[operator]
    await _until(
        lambda: len(first.handled()) + len(second.handled()) >= len(people),
        "every event handled",
        replicas,
        90,
    )
    await asyncio.sleep(2)  # a duplicate would show up here
    assert first.stop() == 0
    assert second.stop() == 0

    by_first, by_second = first.handled(), second.handled()
    assert sorted(by_first + by_second) == sorted(people), "each event exactly once"
    assert by_first
    assert by_second
    placed = await _partitions_of(kafka_bootstrap, run_id, len(people))
    assert {placed[p] for p in by_first} <= first.partitions()
    assert {placed[p] for p in by_second} <= second.partitions()
    assert len(set(placed.values())) > 1, "keys spread over several partitions"


async def test_when_a_replica_stops_the_other_takes_over_from_committed_offsets(
    replicas: Replicas, publish: Callable[..., object], run_id: str
) -> None:
    first = replicas.start("first")
    second = replicas.start("second")
    await _until(lambda: _split_between(first, second), "a split", replicas, 90)

    before = [f"p-{run_id}-a{i}" for i in range(40)]
    await publish(before)  # type: ignore[operator]
    await _until(
        lambda: len(first.handled()) + len(second.handled()) >= len(before),
        "the first batch handled",
        replicas,
        90,
    )
    assert second.stop() == 0  # graceful: commits and leaves the group
    await _until(lambda: len(first.partitions()) == PARTITIONS, "first to take over", replicas, 90)

    after = [f"p-{run_id}-b{i}" for i in range(40)]
    await publish(after)  # type: ignore[operator]
    await _until(
        lambda: len(first.handled()) + len(second.handled()) >= len(before) + len(after),
        "the second batch handled",
        replicas,
        90,
    )
    await asyncio.sleep(2)
    assert first.stop() == 0

    everything = first.handled() + second.handled()
    assert sorted(everything) == sorted(before + after), "nothing lost, nothing twice"
    assert set(after) <= set(first.handled())
