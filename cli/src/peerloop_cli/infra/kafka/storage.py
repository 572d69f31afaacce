"""The broker's storage: a cluster id chosen once, formatted on first use, wiped by `reset`."""

from __future__ import annotations

import base64
import contextlib
import shutil
import subprocess
import uuid
from pathlib import Path

from peerloop_cli.infra.kafka.config import scram_arguments
from peerloop_cli.infra.kafka.jars import log4j_config_file
from peerloop_cli.infra.kafka.settings import KafkaSettings
from peerloop_cli.infra.process import InfraError

STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"


def cluster_id(settings: KafkaSettings) -> str:
    """Chosen once per state directory, in Kafka's Uuid format (22 chars base64url)."""
    path = settings.dir / "cluster.id"
    with contextlib.suppress(FileNotFoundError):
        existing = path.read_text().strip()
        if existing:
            return existing
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):  # Kafka's Uuid.randomUuid avoids these too
            break
    path.write_text(candidate + "\n")
    return candidate


def is_formatted(settings: KafkaSettings) -> bool:
    return (settings.data_dir / "meta.properties").is_file()


def format_storage(settings: KafkaSettings, java: str, libs: Path) -> None:
    argv = [
        java,
        "-Xmx256m",
        f"-Dlog4j2.configurationFile={log4j_config_file()}",
        f"-Dkafka.logs.dir={settings.dir}",
        "-cp",
        str(libs / "*"),
        STORAGE_TOOL_CLASS,
        "format",
        "--config",
        str(settings.properties_file),
        "--cluster-id",
        cluster_id(settings),
        "--ignore-formatted",
        *scram_arguments(settings.sasl),
    ]
    result = subprocess.run(  # noqa: S603 - fixed argv
        argv, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0 or not is_formatted(settings):
        raise InfraError(
            f"formatting Kafka storage in {settings.data_dir} failed "
            f"(exit {result.returncode}):\n{(result.stdout + result.stderr).strip()}\n"
            f"If the directory is left over from another Kafka, `reset` it."
        )


def wipe(settings: KafkaSettings) -> None:
    """Delete the data (topics, offsets, metadata) and the cluster id."""
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    (settings.dir / "cluster.id").unlink(missing_ok=True)
