"""The ACL script equals what the event owners, the consumers and topics.yaml say."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import kafka_acls
import pytest
from peerloop_cli.infra.topics import load_topics
from peerloop_contracts.catalogue import OWNER_BY_TOPIC

# `allow PRINCIPAL RESOURCE PATTERN OPS \` then one name per continuation line.
GRANT = re.compile(r"^allow (\S+) (topic|group) (literal|prefixed) (\S+)((?: \\\n  \S+)+)$", re.M)


def _grants(script: str) -> list[kafka_acls.Acl]:
    return [
        kafka_acls.Acl(
            principal, resource, pattern, tuple(ops.split(",")), tuple(names.split(" \\\n  ")[1:])
        )
        for principal, resource, pattern, ops, names in GRANT.findall(script)
    ]


GRANTS = _grants(kafka_acls.SCRIPT_FILE.read_text())


def allowed(principal: str, operation: str, resource: str, name: str) -> bool:
    """What the StandardAuthorizer decides from these grants (no deny rules, no super user)."""
    for grant in GRANTS:
        if grant.principal != principal or grant.resource != resource:
            continue
        # Kafka: READ and WRITE imply DESCRIBE.
        implied = {*grant.operations} | (
            {"Describe"} if {"Read", "Write"} & set(grant.operations) else set()
        )
        if operation not in implied:
            continue
        if grant.pattern == "literal" and name in grant.names:
            return True
        if grant.pattern == "prefixed" and any(name.startswith(p) for p in grant.names):
            return True
    return False


def test_committed_script_is_the_rendered_one() -> None:
    assert kafka_acls.SCRIPT_FILE.read_text() == kafka_acls.expected_script()
    assert kafka_acls.main(["--check"]) == 0
    assert _grants(kafka_acls.SCRIPT_FILE.read_text()) == kafka_acls.all_acls()


def test_check_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "apply-acls.sh"
    # As if profiles had been allowed to publish matching's events.
    stale.write_text(
        kafka_acls.expected_script().replace(
            "peerloop.skill-offered.v1 \\",
            "peerloop.skill-offered.v1 \\\n  peerloop.match-proposed.v1 \\",
            1,
        )
    )
    monkeypatch.setattr(kafka_acls, "SCRIPT_FILE", stale)
    assert kafka_acls.main(["--check"]) == 1


@pytest.mark.parametrize(
    ("principal", "operation", "resource", "name", "expected"),
    [
        # each service writes only its own events ...
        ("peerloop-profiles", "Write", "topic", "peerloop.skill-offered.v1", True),
        ("peerloop-profiles", "Write", "topic", "peerloop.match-proposed.v1", False),
        ("peerloop-matching", "Write", "topic", "peerloop.session-completed.v1", True),
        ("peerloop-matching", "Write", "topic", "peerloop.skill-offered.v1", False),
        ("peerloop-notifications", "Write", "topic", "peerloop.notification-failed.v1", True),
        ("peerloop-notifications", "Write", "topic", "peerloop.profile-erased.v1", False),
        # ... and the dead-letter twins of what it consumes or owns (the outbox relay
        # dead-letters what the broker refuses for good), no others
        ("peerloop-matching", "Write", "topic", "peerloop.skill-offered.v1.dlq", True),
        ("peerloop-profiles", "Write", "topic", "peerloop.session-completed.v1.dlq", True),
        ("peerloop-profiles", "Write", "topic", "peerloop.skill-offered.v1.dlq", True),
        ("peerloop-profiles", "Write", "topic", "peerloop.match-proposed.v1.dlq", False),
        # reads only what it consumes, in its own groups
        ("peerloop-profiles", "Read", "topic", "peerloop.session-completed.v1", True),
        ("peerloop-profiles", "Read", "topic", "peerloop.match-proposed.v1", False),
        ("peerloop-notifications", "Read", "topic", "peerloop.match-proposed.v1", True),
        ("peerloop-notifications", "Read", "topic", "peerloop.notification-failed.v1", False),
        ("peerloop-matching", "Read", "group", "peerloop-matching.candidates", True),
        ("peerloop-matching", "Read", "group", "peerloop-notifications", False),
        # outside subscribers read everything Peerloop publishes, write nothing
        ("peerloop-subscriber", "Read", "topic", "peerloop.session-completed.v1", True),
        ("peerloop-subscriber", "Describe", "topic", "peerloop.skill-offered.v1", True),
        ("peerloop-subscriber", "Write", "topic", "peerloop.session-completed.v1", False),
        ("peerloop-subscriber", "Read", "group", "peerloop-subscriber.lms-credits", True),
        ("peerloop-subscriber", "Read", "group", "peerloop-matching.candidates", False),
        ("peerloop-subscriber", "Read", "topic", "other.topic", False),
        # the topic job manages topics and reads or writes no events
        ("peerloop-topics", "Create", "topic", "peerloop.skill-offered.v1", True),
        ("peerloop-topics", "AlterConfigs", "topic", "peerloop.skill-offered.v1.dlq", True),
        ("peerloop-topics", "Read", "topic", "peerloop.skill-offered.v1", False),
        ("peerloop-topics", "Write", "topic", "peerloop.skill-offered.v1", False),
        ("peerloop-topics", "Create", "topic", "other.topic", False),
        # nobody else
        ("ANONYMOUS", "Read", "topic", "peerloop.skill-offered.v1", False),
    ],
)
def test_who_may_do_what(
    principal: str, operation: str, resource: str, name: str, expected: bool
) -> None:
    assert allowed(principal, operation, resource, name) is expected


def test_every_event_topic_is_written_by_its_owner_alone() -> None:
    writers = {
        spec.name: {p for p in kafka_acls.principals() if allowed(p, "Write", "topic", spec.name)}
        for spec in load_topics(kafka_acls.TOPICS_FILE)
        if not spec.dead_letter
    }
    assert writers == {topic: {f"peerloop-{owner}"} for topic, owner in OWNER_BY_TOPIC.items()}


def test_script_grants_through_kafka_acls_with_the_client_config(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "kafka-acls.sh"
    tool.write_text('#!/usr/bin/env bash\necho "$*" >> "$CALLS"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    properties = tmp_path / "client.properties"
    properties.write_text("security.protocol=SASL_PLAINTEXT\n")
    calls = tmp_path / "calls"
    done = subprocess.run(
        ["bash", str(kafka_acls.SCRIPT_FILE)],
        env={
            "PATH": os.environ["PATH"],
            "KAFKA_BIN": str(bin_dir),
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "KAFKA_CLIENT_PROPERTIES": str(properties),
            "CALLS": str(calls),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    adds = [c for c in calls.read_text().splitlines() if " --add " in c]
    assert len(adds) == len(GRANTS)
    prefix = f"--bootstrap-server kafka:9092 --command-config {properties} --add "
    assert all(c.startswith(prefix) for c in adds)
    assert (
        prefix + "--allow-principal User:peerloop-profiles --resource-pattern-type literal "
        "--operation Read --topic peerloop.feedback-given.v1 "
        "--topic peerloop.organisation-skill-defined.v1 "
        "--topic peerloop.session-completed.v1"
    ) in adds
    assert (
        prefix + "--allow-principal User:peerloop-topics --resource-pattern-type prefixed "
        "--operation Create --operation Describe --operation DescribeConfigs "
        "--operation AlterConfigs --topic peerloop."
    ) in adds
    assert f"acls: {len(GRANTS)} grants applied" in done.stdout
