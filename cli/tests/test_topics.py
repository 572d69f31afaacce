"""load_topics / parse_topics: the topics.yaml schema, defaults and dead-letter twins.

Pure: no broker, only YAML text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from peerloop_cli.infra.paths import repo_root
from peerloop_cli.infra.topics import TopicsFileError, TopicSpec, load_topics, parse_topics

HEADER = """\
defaults:
  partitions: 6
  replication_factor: 1
  retention_ms: 604800000
dead_letter:
  suffix: .dlq
  partitions: 1
  retention_ms: 2592000000
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(textwrap.dedent(text))
    return path


VALID_CASES = [
    pytest.param(
        HEADER + "topics:\n  - name: a.v1\n",
        [
            TopicSpec("a.v1", 6, 1, 604_800_000),
            TopicSpec("a.v1.dlq", 1, 1, 2_592_000_000, dead_letter=True),
        ],
        id="defaults-and-twin",
    ),
    pytest.param(
        HEADER + "topics:\n  - name: a.v1\n    retention_ms: -1\n    partitions: 3\n",
        [
            TopicSpec("a.v1", 3, 1, -1),
            TopicSpec("a.v1.dlq", 1, 1, 2_592_000_000, dead_letter=True),
        ],
        id="per-topic-override-keeps-dlq-settings",
    ),
    pytest.param(
        HEADER + "topics:\n  - name: a.v1\n    replication_factor: 3\n",
        [
            TopicSpec("a.v1", 6, 3, 604_800_000),
            TopicSpec("a.v1.dlq", 1, 3, 2_592_000_000, dead_letter=True),
        ],
        id="twin-follows-topic-replication",
    ),
    pytest.param(
        "topics:\n  - name: a\n  - name: b\n",
        [
            TopicSpec("a", 1, 1, 604_800_000),
            TopicSpec("a.dlq", 1, 1, 604_800_000, dead_letter=True),
            TopicSpec("b", 1, 1, 604_800_000),
            TopicSpec("b.dlq", 1, 1, 604_800_000, dead_letter=True),
        ],
        id="no-defaults-section-order-kept",
    ),
    pytest.param(
        "dead_letter:\n  suffix: -dead\n  retention_ms: 1000\ntopics:\n  - name: a\n",
        [
            TopicSpec("a", 1, 1, 604_800_000),
            TopicSpec("a-dead", 1, 1, 1000, dead_letter=True),
        ],
        id="custom-suffix",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID_CASES)
def test_load_topics_valid(tmp_path: Path, text: str, expected: list[TopicSpec]) -> None:
    assert load_topics(_write(tmp_path, text)) == expected


INVALID_CASES = [
    pytest.param("topics: []\n", "non-empty list", id="empty-topics"),
    pytest.param("defaults: {partitions: 1}\n", "non-empty list", id="missing-topics"),
    pytest.param("- just\n- a list\n", "expected a mapping", id="not-a-mapping"),
    pytest.param("topics:\n  - partitions: 2\n", "`name` is required", id="missing-name"),
    pytest.param("topics:\n  - name: a\n    partitons: 2\n", "unknown key", id="typo-key"),
    pytest.param("topic:\n  - name: a\n", "unknown key", id="typo-top-level"),
    pytest.param("topics:\n  - name: a\n    partitions: 0\n", "partitions", id="zero-partitions"),
    pytest.param("topics:\n  - name: a\n    partitions: yes\n", "partitions", id="bool-partitions"),
    pytest.param("topics:\n  - name: a\n    partitions: '3'\n", "partitions", id="string-count"),
    pytest.param(
        "topics:\n  - name: a\n    replication_factor: 0\n", "replication_factor", id="zero-rf"
    ),
    pytest.param(
        "topics:\n  - name: a\n    retention_ms: 0\n", "retention_ms", id="zero-retention"
    ),
    pytest.param(
        "topics:\n  - name: a\n    retention_ms: -2\n", "retention_ms", id="neg-retention"
    ),
    pytest.param("topics:\n  - name: a b\n", "not a valid Kafka topic name", id="space-in-name"),
    pytest.param("topics:\n  - name: 'x/y'\n", "not a valid Kafka topic name", id="slash-in-name"),
    pytest.param(f"topics:\n  - name: {'t' * 246}\n", "dead-letter twin", id="twin-name-too-long"),
    pytest.param("topics:\n  - name: a\n  - name: a\n", "declared twice", id="duplicate"),
    pytest.param(
        "topics:\n  - name: a\n  - name: a.dlq\n", "declared twice", id="collides-with-twin"
    ),
    pytest.param("dead_letter:\n  suffix: ''\ntopics:\n  - name: a\n", "suffix", id="empty-suffix"),
    pytest.param("topics: [\n", "not valid YAML", id="broken-yaml"),
]


@pytest.mark.parametrize(("text", "message"), INVALID_CASES)
def test_load_topics_invalid(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TopicsFileError, match=message):
        load_topics(_write(tmp_path, text))


def test_repository_topics_file() -> None:
    """deploy/topics.yaml itself: every event topic is directly followed by its twin."""
    specs = load_topics(repo_root() / "deploy" / "topics.yaml")
    events, twins = specs[0::2], specs[1::2]
    assert events
    assert len(events) == len(twins)
    for event, twin in zip(events, twins, strict=True):
        assert not event.dead_letter
        assert event.name.startswith("peerloop.")
        assert twin == TopicSpec(
            f"{event.name}.dlq", 1, event.replication_factor, 2_592_000_000, dead_letter=True
        )
    by_name = {spec.name: spec for spec in specs}
    assert by_name["peerloop.profile-erased.v1"].retention_ms == -1
    assert by_name["peerloop.help-requested.v1"] == TopicSpec(
        "peerloop.help-requested.v1", 6, 1, 604_800_000
    )


def test_configs_are_kafka_strings() -> None:
    assert TopicSpec("a", 1, 1, -1).configs() == {"retention.ms": "-1"}


def test_a_compacted_topic_gets_the_compaction_settings_and_no_age_retention() -> None:
    specs = parse_topics(
        yaml.safe_load(
            HEADER
            + "compacted:\n  segment_ms: 1000\n  max_compaction_lag_ms: 2000\n"
            + "  delete_retention_ms: 3000\n"
            + "topics:\n  - name: a.v1\n    cleanup_policy: compact\n  - name: b.v1\n"
        )
    )
    by_name = {s.name: s for s in specs}
    assert by_name["a.v1"].configs() == {
        "retention.ms": "-1",
        "cleanup.policy": "compact",
        "segment.ms": "1000",
        "max.compaction.lag.ms": "2000",
        "delete.retention.ms": "3000",
    }
    assert by_name["a.v1.dlq"].compaction is None
    assert by_name["b.v1"].compaction is None


@pytest.mark.parametrize(
    ("entry", "wanted"),
    [
        ("    cleanup_policy: shred\n", "cleanup_policy must be one of"),
        ("    cleanup_policy: compact\n    retention_ms: 1000\n", "takes no retention_ms"),
    ],
)
def test_bad_cleanup_policies_are_refused(entry: str, wanted: str) -> None:
    with pytest.raises(TopicsFileError, match=wanted):
        parse_topics(yaml.safe_load(HEADER + "topics:\n  - name: a\n" + entry))
