"""The broker's jars, fetched from Maven Central once per machine and cached."""

from __future__ import annotations

from pathlib import Path

from peerloop_cli.infra.jvm import fetch_jars
from peerloop_cli.infra.kafka.settings import KAFKA_VERSION
from peerloop_cli.infra.paths import cache_dir, repo_root


def pom_file() -> Path:
    return repo_root() / "deploy" / "local" / "kafka" / "pom.xml"


def log4j_config_file() -> Path:
    return repo_root() / "deploy" / "local" / "kafka" / "log4j2.xml"


def libs_dir() -> Path:
    return cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_jars() -> Path:
    """The directory of broker jars, downloaded through Maven on first use (then cached)."""
    return fetch_jars(pom_file(), libs_dir(), what="Kafka", complete=_has_broker_jars)


def _has_broker_jars(names: set[str]) -> bool:
    needed = (f"kafka_2.13-{KAFKA_VERSION}.jar", f"kafka-clients-{KAFKA_VERSION}.jar")
    return all(name in names for name in needed) and any(
        name.startswith("log4j-core-") for name in names
    )
