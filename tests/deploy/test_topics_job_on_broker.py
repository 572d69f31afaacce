"""The generated topic script against a real Kafka broker, with Kafka's own CLI tools."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import topics_job
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from peerloop_cli.infra.topics import Compaction, TopicSpec
from peerloop_cli.testing.kafka_tools import kafka_bin

pytestmark = pytest.mark.integration


def _kafka_bin(tmp_path: Path) -> Path:
    """kafka-topics.sh / kafka-configs.sh as the Kafka distribution has them, on our jars."""
    return kafka_bin(tmp_path, ["kafka-topics.sh", "kafka-configs.sh"])


def _run(
    script: str, tmp_path: Path, bootstrap: str, bin_dir: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "create-topics.sh"
    path.write_text(script)
    return subprocess.run(
        ["bash", str(path)],
        env={**os.environ, "KAFKA_BIN": str(bin_dir), "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


async def _retention(admin: AIOKafkaAdminClient, topic: str) -> str:
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    [resource] = response.resources
    return next(entry[1] for entry in resource[4] if entry[0] == "retention.ms")


async def test_script_creates_topics_and_a_rerun_keeps_them_and_updates_retention(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, run_id: str, tmp_path: Path
) -> None:
    name = f"peerloop-test-{run_id}.v1"
    specs = [TopicSpec(name, 2, 1, 3_600_000), TopicSpec(f"{name}.dlq", 1, 1, -1, dead_letter=True)]
    bin_dir = _kafka_bin(tmp_path)
    try:
        first = _run(topics_job.render(specs), tmp_path, kafka_bootstrap, bin_dir)
        assert first.returncode == 0, first.stdout + first.stderr
        described = {t["topic"]: t for t in await admin.describe_topics([name, f"{name}.dlq"])}
        assert len(described[name]["partitions"]) == 2
        assert len(described[f"{name}.dlq"]["partitions"]) == 1
        assert await _retention(admin, name) == "3600000"
        assert await _retention(admin, f"{name}.dlq") == "-1"

        # Declared again with another retention: the topic stays, its retention follows.
        specs[0] = TopicSpec(name, 2, 1, 7_200_000)
        again = _run(topics_job.render(specs), tmp_path, kafka_bootstrap, bin_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "topics: 2 declared topics present" in again.stdout
        assert await _retention(admin, name) == "7200000"
    finally:
        await admin.delete_topics([name, f"{name}.dlq"])


async def _config(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    [resource] = response.resources
    return {entry[0]: entry[1] for entry in resource[4]}


async def test_script_makes_a_state_topic_compacted_with_its_bounds(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, run_id: str, tmp_path: Path
) -> None:
    name = f"peerloop-test-{run_id}-state.v1"
    compaction = Compaction(segment_ms=3_600_000, max_compaction_lag_ms=7_200_000,
                            delete_retention_ms=600_000)  # fmt: skip
    specs = [TopicSpec(name, 1, 1, -1, compaction=compaction)]
    try:
        done = _run(topics_job.render(specs), tmp_path, kafka_bootstrap, _kafka_bin(tmp_path))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"topics: {name} compacted" in done.stdout
        config = await _config(admin, name)
        assert config["cleanup.policy"] == "compact"
        assert (config["segment.ms"], config["max.compaction.lag.ms"]) == ("3600000", "7200000")
        assert config["delete.retention.ms"] == "600000"
    finally:
        await admin.delete_topics([name])
