"""The topic-creation script that docker compose and Kubernetes run equals deploy/topics.yaml."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import topics_job
import yaml
from peerloop_cli.infra.topics import TopicSpec, load_topics

ROOT = Path(__file__).resolve().parents[2]
TOPIC_LINE = re.compile(r"^topic (\S+) (\d+) (\d+) (-?\d+)$", re.MULTILINE)

STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
if [ "$(basename "$0")" = kafka-topics.sh ] && [[ " $* " == *" --list "* ]]; then
  exit "${LIST_EXIT:-0}"
fi
"""


def _stub_kafka_bin(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kafka-topics.sh", "kafka-configs.sh"):
        tool = bin_dir / name
        tool.write_text(STUB)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def _run_script(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = tmp_path / "calls"
    done = subprocess.run(
        ["bash", str(topics_job.SCRIPT_FILE)],
        env={
            "PATH": os.environ["PATH"],
            "KAFKA_BIN": str(_stub_kafka_bin(tmp_path)),
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "CALLS": str(calls),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_committed_script_is_the_one_rendered_from_topics_yaml() -> None:
    assert topics_job.SCRIPT_FILE.read_text() == topics_job.expected_script()
    assert topics_job.main(["--check"]) == 0


def test_script_declares_exactly_the_topics_of_topics_yaml_with_their_settings() -> None:
    declared = [
        (name, int(partitions), int(replication), int(retention))
        for name, partitions, replication, retention in TOPIC_LINE.findall(
            topics_job.SCRIPT_FILE.read_text()
        )
    ]
    expected = [
        (s.name, s.partitions, s.replication_factor, s.retention_ms)
        for s in load_topics(topics_job.TOPICS_FILE)
    ]
    assert declared == expected
    assert any(name.endswith(".dlq") for name, *_ in declared)


def test_check_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "create-topics.sh"
    stale.write_text(topics_job.expected_script().replace(" 6 1 ", " 3 1 ", 1))
    monkeypatch.setattr(topics_job, "SCRIPT_FILE", stale)
    assert topics_job.main(["--check"]) == 1


def test_render_writes_one_line_per_topic_in_order() -> None:
    specs = [TopicSpec("a.v1", 3, 1, 1000), TopicSpec("a.v1.dlq", 1, 1, -1, dead_letter=True)]
    assert TOPIC_LINE.findall(topics_job.render(specs)) == [
        ("a.v1", "3", "1", "1000"),
        ("a.v1.dlq", "1", "1", "-1"),
    ]


def test_script_creates_every_topic_idempotently_and_sets_its_retention(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path)
    assert done.returncode == 0, done.stderr
    specs = load_topics(topics_job.TOPICS_FILE)
    creates = [c for c in calls if " --create " in c]
    assert len(creates) == len(specs)
    for spec, call in zip(specs, creates, strict=True):
        assert call == (
            f"kafka-topics.sh --bootstrap-server kafka:9092 --create --if-not-exists "
            f"--topic {spec.name} --partitions {spec.partitions} "
            f"--replication-factor {spec.replication_factor} --config retention.ms={spec.retention_ms}"
        )
        assert (
            f"kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics "
            f"--entity-name {spec.name} --add-config retention.ms={spec.retention_ms}"
        ) in calls
    assert not any("--partitions" in c and "--alter" in c for c in calls), "never repartitions"
    assert f"topics: {len(specs)} declared topics present" in done.stdout


def test_replication_factor_override_and_client_config_reach_every_call(tmp_path: Path) -> None:
    properties = tmp_path / "client.properties"
    properties.write_text("security.protocol=SASL_SSL\n")
    done, calls = _run_script(
        tmp_path,
        PEERLOOP_TOPIC_REPLICATION_FACTOR="3",
        KAFKA_CLIENT_PROPERTIES=str(properties),
    )
    assert done.returncode == 0, done.stderr
    assert calls
    assert all(f"--command-config {properties}" in c for c in calls)
    creates = [c for c in calls if " --create " in c]
    assert creates
    assert all("--replication-factor 3 " in c for c in creates)


def test_missing_client_config_file_is_ignored(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path, KAFKA_CLIENT_PROPERTIES=str(tmp_path / "absent"))
    assert done.returncode == 0, done.stderr
    assert not any("--command-config" in c for c in calls)


def test_script_fails_when_the_broker_never_answers(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path, LIST_EXIT="1", KAFKA_WAIT_SECONDS="0")
    assert done.returncode == 1
    assert "did not answer" in done.stderr
    assert not any(" --create " in c for c in calls)


def test_compose_job_and_kubernetes_configmap_use_the_same_script() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    script = topics_job.SCRIPT_FILE.relative_to(ROOT)
    job = compose["services"]["kafka-topics"]
    assert f"./{script}:/peerloop/create-topics.sh:ro" in job["volumes"]
    # As the topic-admin principal: with-sasl.sh writes its client config, then runs the script.
    assert job["entrypoint"][-2:] == ["/bin/bash", "/peerloop/create-topics.sh"]
    base = yaml.safe_load((topics_job.SCRIPT_FILE.parents[1] / "kustomization.yaml").read_text())
    [generator] = [g for g in base["configMapGenerator"] if g["name"] == "peerloop-topics"]
    assert generator["files"] == [
        str(topics_job.SCRIPT_FILE.relative_to(topics_job.SCRIPT_FILE.parents[1]))
    ]


def test_a_compacted_topic_gets_its_compact_line_and_call(tmp_path: Path) -> None:
    compacted = [s for s in load_topics(topics_job.TOPICS_FILE) if s.compaction is not None]
    assert compacted, "topics.yaml declares the state topics compacted"
    script = topics_job.SCRIPT_FILE.read_text()
    done, calls = _run_script(tmp_path)
    assert done.returncode == 0, done.stderr
    for spec in compacted:
        c = spec.compaction
        assert c is not None
        assert (
            f"topic {spec.name} {spec.partitions} {spec.replication_factor} -1\n"
            f"compact {spec.name} {c.segment_ms} {c.max_compaction_lag_ms} "
            f"{c.delete_retention_ms}\n"
        ) in script
        assert (
            f"kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics "
            f"--entity-name {spec.name} --add-config cleanup.policy=compact,"
            f"segment.ms={c.segment_ms},max.compaction.lag.ms={c.max_compaction_lag_ms},"
            f"delete.retention.ms={c.delete_retention_ms}"
        ) in calls
