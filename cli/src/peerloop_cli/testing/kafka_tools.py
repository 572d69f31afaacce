"""Kafka's own command-line tools for tests, run from the local broker's jars.

The official image's scripts (`kafka-topics.sh`, `kafka-acls.sh`, …) are thin
wrappers over Java main classes; these stand-ins do the same on the jars
`peerloop infra up` already downloaded, so the generated deploy scripts run
unchanged against a real broker.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from peerloop_cli.infra import kafka as local_kafka
from peerloop_cli.infra.jvm import java_binary

MAIN_CLASSES = {
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "org.apache.kafka.tools.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
}


def kafka_bin(directory: Path, tools: Iterable[str] = tuple(MAIN_CLASSES)) -> Path:
    """A `bin` directory under `directory` holding these tools; pass it as KAFKA_BIN."""
    libs = local_kafka.ensure_jars()
    java = java_binary()
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in tools:
        tool = bin_dir / name
        # A small client JVM: the machine is shared, and these run for seconds.
        tool.write_text(
            f'#!/usr/bin/env bash\nexec "{java}" -Xmx128m -XX:TieredStopAtLevel=1 '
            f'-XX:+UseSerialGC -cp "{libs}/*" {MAIN_CLASSES[name]} "$@"\n'
        )
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return bin_dir
