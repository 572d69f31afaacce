"""The declared Kafka topics, read from `deploy/topics.yaml`.

One list feeds the local broker (`peerloop_cli.infra.kafka.create_topics`) and the
deploy manifests, so the parsing lives here, free of any Kafka client.

`load_topics` returns every declared topic followed by its dead-letter twin
(`<name><dead_letter.suffix>`), with the file's defaults filled in:

    defaults:    {partitions, replication_factor, retention_ms}
    dead_letter: {suffix, partitions, retention_ms}   # replication follows the topic
    topics:      [{name, partitions?, replication_factor?, retention_ms?}, ...]

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
_TOPIC_KEYS = frozenset({"name", "partitions", "replication_factor", "retention_ms"})
_TOP_KEYS = frozenset({"defaults", "dead_letter", "topics"})


class TopicsFileError(ValueError):
    """topics.yaml does not describe a valid list of topics."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    retention_ms: int  # -1 keeps records forever
    dead_letter: bool = False

    def configs(self) -> dict[str, str]:
        """Topic-level configs as Kafka expects them (string values)."""
        return {"retention.ms": str(self.retention_ms)}


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
        specs.append(
            TopicSpec(
                name=_topic_name(name, where),
                partitions=_int(item, "partitions", default_partitions, where, minimum=1),
                replication_factor=rf,
                retention_ms=_retention(item, default_retention, where),
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
