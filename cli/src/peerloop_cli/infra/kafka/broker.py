"""The broker process: a LocalComponent that formats its storage on first start.

The quorum is static (`controller.quorum.voters`), so changing either port between
runs needs no re-format. After a crash (SIGKILL) the next start takes ~10 s longer:
the controller refuses the new broker registration until the old one's session
(broker.session.timeout.ms, 9 s) expires.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Literal, TypedDict

from peerloop_cli.infra.component import LocalComponent
from peerloop_cli.infra.jvm import java_binary
from peerloop_cli.infra.kafka import storage
from peerloop_cli.infra.kafka.config import server_properties
from peerloop_cli.infra.kafka.jars import ensure_jars, log4j_config_file
from peerloop_cli.infra.kafka.readiness import round_trip_problem
from peerloop_cli.infra.kafka.settings import HOST, KafkaSettings
from peerloop_cli.infra.process import InfraError, port_open

MAIN_CLASS = "kafka.Kafka"


class KafkaBroker(LocalComponent):
    host = HOST

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def what(self) -> str:
        return f"the Kafka broker on {self.settings.bootstrap}"

    @property
    def ports(self) -> tuple[tuple[int, str], ...]:
        return (
            (self.settings.port, "PEERLOOP_KAFKA_PORT"),
            (self.settings.controller_port, "PEERLOOP_KAFKA_CONTROLLER_PORT"),
        )

    def signature(self) -> tuple[bytes, ...]:
        return MAIN_CLASS.encode(), str(self.settings.properties_file).encode()

    def check_same_settings(self, pid: int) -> None:
        try:
            current = self.settings.properties_file.read_text()
        except FileNotFoundError:
            current = ""
        if current != server_properties(self.settings):
            raise InfraError(
                f"Kafka is already running (pid {pid}) with other settings (ports or data "
                f"directory differ from {self.settings.properties_file}); stop it first."
            )

    def prepare_command(self) -> list[str]:
        settings = self.settings
        libs = ensure_jars()
        java = java_binary()
        log4j = log4j_config_file()
        if not log4j.is_file():
            raise InfraError(f"{log4j} is missing; run from a complete peerloop checkout")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.properties_file.write_text(server_properties(settings))
        if not storage.is_formatted(settings):
            storage.format_storage(settings, java, libs)
        return [
            java,
            *shlex.split(settings.heap),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={settings.dir}",
            "-cp",
            str(libs / "*"),
            MAIN_CLASS,
            str(settings.properties_file),
        ]

    def serving(self) -> bool:
        return len(self.open_ports()) == len(self.ports)

    def probe(self, within_s: float) -> str | None:
        if not port_open(HOST, self.settings.port):
            return "the broker port is not open"
        return round_trip_problem(self.settings.bootstrap, within_s)

    def log_tail(self, lines: int = 30) -> str:
        """The broker log's end, then the JVM's own output, both of the latest start only.

        An old shutdown is not mistaken for the reason of a new failure.
        """
        parts: list[str] = []
        server_log = self.settings.server_log
        try:
            fresh = server_log.stat().st_mtime >= (self.dir / "started_at").stat().st_mtime
        except FileNotFoundError:
            fresh = False
        if fresh:
            server = server_log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {server_log} (end) ---\n" + "\n".join(server))
        jvm = self.output_since_start()
        if jvm is not None:
            parts.append(
                f"--- {self.process.log_file} (JVM output, warnings) ---\n"
                + "\n".join(jvm[-lines:])
            )
        return "\n".join(parts)


# --------------------------------------------------------------------------- the module's API


def start(settings: KafkaSettings) -> None:
    """Start the broker detached. Returns at once if it is already running.

    Formats the storage on first use. Raises InfraError when a port is taken by
    something else, or when our broker already runs with different settings.
    Does not wait for readiness; call `wait_ready` for that.
    """
    KafkaBroker(settings).start()


def stop(settings: KafkaSettings, grace_seconds: float = 30.0) -> bool:
    """SIGTERM (the broker shuts down in a controlled way), SIGKILL after the grace period.

    Returns True if our broker was running; then afterwards neither port is
    listening, or this raises saying so. Anything else on the ports is left alone.
    """
    return KafkaBroker(settings).stop(grace_seconds)


def reset(settings: KafkaSettings) -> None:
    """Stop the broker and delete its data (topics, offsets, metadata, cluster id)."""
    stop(settings)
    storage.wipe(settings)


class KafkaStatus(TypedDict):
    state: Literal["running", "starting", "stopped", "port-taken"]
    pid: int | None
    bootstrap: str
    broker_port_open: bool
    controller_port_open: bool
    formatted: bool
    log: str


def status(settings: KafkaSettings) -> KafkaStatus:
    """running: ours is alive and both ports listen; starting: ours, not listening (yet)."""
    found = KafkaBroker(settings).state()
    return KafkaStatus(
        state=found.state,
        pid=found.pid,
        bootstrap=settings.bootstrap,
        broker_port_open=settings.port in found.open_ports,
        controller_port_open=settings.controller_port in found.open_ports,
        formatted=storage.is_formatted(settings),
        log=str(settings.server_log),
    )


def log_tail(settings: KafkaSettings, lines: int = 30) -> str:
    return KafkaBroker(settings).log_tail(lines)


def wait_ready(settings: KafkaSettings, timeout: float = 90.0) -> float:
    """Block until a record produced with acks=all is consumed back; returns seconds waited."""
    return KafkaBroker(settings).wait_ready(timeout)


async def wait_ready_async(settings: KafkaSettings, within_s: float = 90.0) -> float:
    """`wait_ready` for callers inside an event loop (the probes run their own, in a thread)."""
    return await asyncio.to_thread(wait_ready, settings, within_s)
