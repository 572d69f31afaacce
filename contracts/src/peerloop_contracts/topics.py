"""Topic and CloudEvents type naming: one topic per event type and version."""

from __future__ import annotations

TOPIC_PREFIX = "peerloop."
CE_TYPE_PREFIX = "io.peerloop."
DLQ_SUFFIX = ".dlq"
SOURCE_PREFIX = "peerloop/"


def topic_name(event_name: str, version: int = 1) -> str:
    """`skill-offered`, 1 -> `peerloop.skill-offered.v1`."""
    return f"{TOPIC_PREFIX}{event_name}.v{version}"


def ce_type(event_name: str, version: int = 1) -> str:
    """`skill-offered`, 1 -> `io.peerloop.skill-offered.v1`."""
    return f"{CE_TYPE_PREFIX}{event_name}.v{version}"


def dlq_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def ce_source(service: str) -> str:
    """`profiles` -> `peerloop/profiles`: the `ce_source` a service stamps on its events."""
    return f"{SOURCE_PREFIX}{service}"
