"""The declared Kafka topics, read from `deploy/topics.yaml`.

One list feeds the local broker (`peerloop_cli.infra.kafka.create_topics`) and the
deploy manifests, so the parsing lives here, free of any Kafka client.

`load_topics` returns every declared topic followed by its dead-letter twin
(`<name><dead_letter.suffix>`), with the file's defaults filled in:

    defaults:    {partitions, replication_factor, retention_ms}
    dead_letter: {suffix, partitions, retention_ms}   # replication follows the topic
    compacted:   {segment_ms, max_compaction_lag_ms, delete_retention_ms}
    topics:      [{name, partitions?, replication_factor?, retention_ms?, cleanup_policy?}, ...]

A topic with `cleanup_policy: compact` (an entity state topic) keeps the newest record
per key instead of deleting by age; the `compacted` settings bound how long an older
record, or a tombstone, may stay before the broker's cleaner removes it. Its
dead-letter twin is an ordinary topic.

Anything unexpected (unknown keys, bad names, duplicates, non-positive counts) is a
`TopicsFileError` naming the entry, rather than a surprise on the broker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Kafka's own rule: [a-zA-Z0-9._-], at most 249 characters, not "." or "..".
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

_DEFAULT_KEYS = frozenset({"partitions", "replication_factor", "retention_ms"})
_DEAD_LETTER_KEYS = frozenset({"suffix", "partitions", "retention_ms"})
_COMPACTED_KEYS = frozenset({"segment_ms", "max_compaction_lag_ms", "delete_retention_ms"})
_TOPIC_KEYS = frozenset(
    {"name", "partitions", "replication_factor", "retention_ms", "cleanup_policy"}
)
_TOP_KEYS = frozenset({"defaults", "dead_letter", "compacted", "topics"})
_CLEANUP_POLICIES = frozenset({"delete", "compact"})


class TopicsFileError(ValueError):
    """topics.yaml does not describe a valid list of topics."""


@dataclass(frozen=True)
class Compaction:
    """How soon the cleaner of a compacted topic removes what a newer record replaced."""

    segment_ms: int = 86_400_000
    """Only closed segments are compacted: the active one closes after this long."""
    max_compaction_lag_ms: int = 604_800_000
    """A replaced record stays at most this long before it is compacted away."""
    delete_retention_ms: int = 86_400_000
    """A tombstone stays this long, so a consumer reading behind still sees the erasure."""
    min_cleanable_dirty_ratio: float | None = None
    """Left to the broker unless a test needs the cleaner to run at once."""

    def configs(self) -> dict[str, str]:
        configs = {
            "cleanup.policy": "compact",
            "segment.ms": str(self.segment_ms),
            "max.compaction.lag.ms": str(self.max_compaction_lag_ms),
            "delete.retention.ms": str(self.delete_retention_ms),
        }
        if self.min_cleanable_dirty_ratio is not None:
            configs["min.cleanable.dirty.ratio"] = str(self.min_cleanable_dirty_ratio)
        return configs


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    retention_ms: int  # -1 keeps records forever
    dead_letter: bool = False
    compaction: Compaction | None = None
    """Set for a compacted (entity state) topic."""

    def configs(self) -> dict[str, str]:
        """Topic-level configs as Kafka expects them (string values)."""
        configs = {"retention.ms": str(self.retention_ms)}
        if self.compaction is not None:
            configs.update(self.compaction.configs())
        return configs


def load_topics(path: Path) -> list[TopicSpec]:
    """Every topic of the file, each directly followed by its dead-letter twin."""
    try:
        raw: object = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TopicsFileError(f"{path}: not valid YAML: {exc}") from exc
    return parse_topics(raw, source=str(path))


def parse_topics(raw: object, *, source: str = "topics.yaml") -> list[TopicSpec]:
    """`load_topics` on an already-parsed document (tests, generators)."""
    doc = _mapping(raw, source, _TOP_KEYS)
    defaults = _mapping(doc.get("defaults", {}), f"{source}: defaults", _DEFAULT_KEYS)
    dead = _mapping(doc.get("dead_letter", {}), f"{source}: dead_letter", _DEAD_LETTER_KEYS)

    default_partitions = _int(defaults, "partitions", 1, f"{source}: defaults", minimum=1)
    default_rf = _int(defaults, "replication_factor", 1, f"{source}: defaults", minimum=1)
    default_retention = _retention(defaults, 604_800_000, f"{source}: defaults")

    suffix = dead.get("suffix", ".dlq")
    if not isinstance(suffix, str) or not suffix:
        raise TopicsFileError(f"{source}: dead_letter.suffix must be a non-empty string")
    dead_partitions = _int(dead, "partitions", 1, f"{source}: dead_letter", minimum=1)
    dead_retention = _retention(dead, default_retention, f"{source}: dead_letter")

    compacted = _mapping(doc.get("compacted", {}), f"{source}: compacted", _COMPACTED_KEYS)
    where_compacted = f"{source}: compacted"
    compaction = Compaction(
        segment_ms=_int(compacted, "segment_ms", Compaction.segment_ms, where_compacted, minimum=1),
        max_compaction_lag_ms=_int(
            compacted,
            "max_compaction_lag_ms",
            Compaction.max_compaction_lag_ms,
            where_compacted,
            minimum=1,
        ),
        delete_retention_ms=_int(
            compacted,
            "delete_retention_ms",
            Compaction.delete_retention_ms,
            where_compacted,
            minimum=0,
        ),
    )

    entries = doc.get("topics")
    if not isinstance(entries, list) or not entries:
        raise TopicsFileError(f"{source}: `topics` must be a non-empty list")

    specs: list[TopicSpec] = []
    for index, entry in enumerate(entries):
        where = f"{source}: topics[{index}]"
        item = _mapping(entry, where, _TOPIC_KEYS)
        name = item.get("name")
        if not isinstance(name, str):
            raise TopicsFileError(f"{where}: `name` is required and must be a string")
        where = f"{source}: topic {name!r}"
        rf = _int(item, "replication_factor", default_rf, where, minimum=1)
        policy = item.get("cleanup_policy", "delete")
        if policy not in _CLEANUP_POLICIES:
            raise TopicsFileError(
                f"{where}: cleanup_policy must be one of {', '.join(sorted(_CLEANUP_POLICIES))}, "
                f"got {policy!r}"
            )
        compact = policy == "compact"
        if compact and "retention_ms" in item:
            raise TopicsFileError(
                f"{where}: a compacted topic keeps the newest record of every key; "
                "it takes no retention_ms"
            )
        specs.append(
            TopicSpec(
                name=_topic_name(name, where),
                partitions=_int(item, "partitions", default_partitions, where, minimum=1),
                replication_factor=rf,
                retention_ms=-1 if compact else _retention(item, default_retention, where),
                compaction=compaction if compact else None,
            )
        )
        specs.append(
            TopicSpec(
                name=_topic_name(name + suffix, where + " (dead-letter twin)"),
                partitions=dead_partitions,
                replication_factor=rf,
                retention_ms=dead_retention,
                dead_letter=True,
            )
        )

    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise TopicsFileError(f"{source}: topic {spec.name!r} is declared twice")
        seen.add(spec.name)
    return specs


def _mapping(value: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TopicsFileError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise TopicsFileError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return value


def _int(item: Mapping[str, Any], key: str, default: int, where: str, *, minimum: int) -> int:
    value = item.get(key, default)
    # bool is an int in Python; `partitions: yes` is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise TopicsFileError(f"{where}: {key} must be an integer >= {minimum}, got {value!r}")
    return value


def _retention(item: Mapping[str, Any], default: int, where: str) -> int:
    value = item.get("retention_ms", default)
    if not isinstance(value, int) or isinstance(value, bool) or (value < 1 and value != -1):
        raise TopicsFileError(
            f"{where}: retention_ms must be a positive number of milliseconds "
            f"or -1 (forever), got {value!r}"
        )
    return value


def _topic_name(name: str, where: str) -> str:
    if not _TOPIC_NAME.match(name) or name in {".", ".."}:
        raise TopicsFileError(
            f"{where}: {name!r} is not a valid Kafka topic name "
            "(letters, digits, '.', '_', '-'; at most 249 characters)"
        )
    return name
