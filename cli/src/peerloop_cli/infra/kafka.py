"""A real single-node Apache Kafka (KRaft, broker + controller in one JVM) on 127.0.0.1.

No Docker and no release tarball: the broker's jars come from Maven Central through
`deploy/local/kafka/pom.xml` and run on the machine's Java 17+.

    settings = KafkaSettings.from_env()
    ensure_jars()                     # once per machine, cached under cache_dir()
    start(settings)                   # formats storage on first use; no-op if running
    wait_ready(settings)              # a record really went through produce + consume
    create_topics(settings.bootstrap, repo_root() / "deploy" / "topics.yaml")
    status(settings)
    stop(settings)                    # SIGTERM (controlled shutdown), SIGKILL after grace

Files:
    <cache>/kafka-<version>/libs/*.jar   the classpath (+ `.complete` marker)
    <cache>/m2/                          Maven's local repository for that download
    <state>/kafka/server.properties      written on every start from the settings
    <state>/kafka/cluster.id             chosen once, used to format storage
    <state>/kafka/data/                  log.dirs (metadata log + topic partitions)
    <state>/kafka/server.log             broker log, INFO (rolled)
    <state>/kafka/kafka.log              JVM stdout/stderr and broker WARN+
    <state>/kafka/pid, last_pid, started_at

The quorum is static (`controller.quorum.voters`), so changing either port between
runs needs no re-format. After a crash (SIGKILL) the next start takes ~10 s longer:
the controller refuses the new broker registration until the old one's session
(broker.session.timeout.ms, 9 s) expires.

The sync functions use `asyncio.run`; inside a running event loop call the `*_async`
variants.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from aiokafka import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import (  # type: ignore[import-untyped, unused-ignore]
    AIOKafkaAdminClient,
    NewTopic,
)

from peerloop_cli.infra.jvm import fetch_jars, java_binary, locked
from peerloop_cli.infra.paths import cache_dir, component_dir, repo_root
from peerloop_cli.infra.process import (
    InfraError,
    ManagedProcess,
    ensure_port_free,
    env_port,
    exec_pending,
    pid_alive,
    pids_with_args,
    port_open,
    wait_for_previous_exit,
    wait_until,
)
from peerloop_cli.infra.topics import TopicSpec, load_topics

KAFKA_VERSION = "4.4.0"
HOST = "127.0.0.1"
NODE_ID = 1
READINESS_TOPIC = "peerloop.__readiness"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"

_NAME = "kafka"
_TOPIC_ALREADY_EXISTS = 36
_START_MARK = "=== peerloop starting kafka"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SaslBroker:
    """A broker that lets in SCRAM-SHA-512 users only and enforces ACLs.

    `super_user` is the broker's own principal (inter-broker and controller
    traffic, and whoever grants the first ACLs); `users` are the other SCRAM
    users, created when the storage is formatted (`kafka-storage format
    --add-scram`), since credentials live in the cluster metadata.
    Nothing is allowed without an ACL (`allow.everyone.if.no.acl.found=false`).
    Passwords go into JAAS and `--add-scram` verbatim: letters, digits and '-'.
    """

    super_user: str
    super_password: str
    users: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class KafkaSettings:
    port: int = 9092
    controller_port: int = 9093
    heap: str = "-Xms256m -Xmx512m"
    version: str = field(default=KAFKA_VERSION, init=False)
    name: str = _NAME
    """Component name: its own state directory and pid file, so a second broker can run."""
    sasl: SaslBroker | None = None
    """None: plaintext without an authorizer (the local default)."""

    @classmethod
    def from_env(cls) -> KafkaSettings:
        return cls(
            port=env_port("PEERLOOP_KAFKA_PORT", 9092),
            controller_port=env_port("PEERLOOP_KAFKA_CONTROLLER_PORT", 9093),
            heap=os.environ.get("PEERLOOP_KAFKA_HEAP", "-Xms256m -Xmx512m").strip()
            or "-Xms256m -Xmx512m",
        )

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def dir(self) -> Path:
        return component_dir(self.name)

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def properties_file(self) -> Path:
        return self.dir / "server.properties"

    @property
    def server_log(self) -> Path:
        return self.dir / "server.log"


def _process(settings: KafkaSettings) -> ManagedProcess:
    return ManagedProcess(settings.name)


# --------------------------------------------------------------------------- jars


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


# --------------------------------------------------------------------------- config


def server_properties(settings: KafkaSettings) -> str:
    """The broker configuration, sized for a laptop (small thread pools, few partitions)."""
    data = settings.data_dir
    props: dict[str, str | int] = {
        # KRaft combined mode: one JVM is broker and (sole) controller.
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{settings.controller_port}",
        "controller.listener.names": "CONTROLLER",
        "listeners": f"PLAINTEXT://{HOST}:{settings.port},CONTROLLER://{HOST}:{settings.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{settings.port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        **(_sasl_properties(settings, settings.sasl) if settings.sasl else {}),
        # Storage.
        "log.dirs": str(data),
        "num.partitions": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "auto.create.topics.enable": "false",
        "log.segment.bytes": 16 * 1024 * 1024,
        "log.index.size.max.bytes": 1024 * 1024,
        "log.retention.check.interval.ms": 60_000,
        # Internal topics: replication 1, and few partitions (default 50 each).
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 4,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 4,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "share.coordinator.state.topic.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        # Two shared cores: keep the thread pools small.
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "background.threads": 2,
        "log.cleaner.threads": 1,
    }
    lines = [
        "# Written by peerloop_cli.infra.kafka on every start; edits are overwritten.",
        *(f"{key}={value}" for key, value in props.items()),
    ]
    return "\n".join(lines) + "\n"


def _sasl_properties(settings: KafkaSettings, sasl: SaslBroker) -> dict[str, str | int]:
    """SASL_PLAINTEXT instead of PLAINTEXT, and the ACL authorizer."""
    user, password = sasl.super_user, sasl.super_password
    return {
        "listeners": f"SASL_PLAINTEXT://{HOST}:{settings.port},"
        f"CONTROLLER://{HOST}:{settings.controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://{HOST}:{settings.port}",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{user}" password="{password}";'
        ),
        # The controller serves the SCRAM credentials, so it cannot check them itself.
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{user}" password="{password}" user_{user}="{password}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{user}",
    }


def _scram_arguments(sasl: SaslBroker | None) -> list[str]:
    if sasl is None:
        return []
    users = [(sasl.super_user, sasl.super_password), *sasl.users]
    return [
        arg
        for name, password in users
        for arg in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
    ]


def _cluster_id(settings: KafkaSettings) -> str:
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


def _is_formatted(settings: KafkaSettings) -> bool:
    return (settings.data_dir / "meta.properties").is_file()


def _format_storage(settings: KafkaSettings, java: str, libs: Path) -> None:
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
        _cluster_id(settings),
        "--ignore-formatted",
        *_scram_arguments(settings.sasl),
    ]
    result = subprocess.run(  # noqa: S603 - fixed argv
        argv, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0 or not _is_formatted(settings):
        raise InfraError(
            f"formatting Kafka storage in {settings.data_dir} failed "
            f"(exit {result.returncode}):\n{(result.stdout + result.stderr).strip()}\n"
            f"If the directory is left over from another Kafka, `reset` it."
        )


# --------------------------------------------------------------------------- lifecycle


def start(settings: KafkaSettings) -> None:
    """Start the broker detached. Returns at once if it is already running.

    Formats the storage on first use. Raises InfraError when a port is taken by
    something else, or when our broker already runs with different settings.
    Does not wait for readiness; call `wait_ready` for that.
    """
    proc = _process(settings)
    with locked(settings.dir / ".start.lock"):
        if _running_pid(settings) is not None:
            try:
                current = settings.properties_file.read_text()
            except FileNotFoundError:
                current = ""
            if current != server_properties(settings):
                raise InfraError(
                    "Kafka is already running with other settings (ports or data "
                    f"directory differ from {settings.properties_file}); stop it first."
                )
            return
        wait_for_previous_exit(
            settings.dir / "last_pid", HOST, (settings.port, settings.controller_port)
        )
        ensure_port_free(HOST, settings.port, f"Kafka (PEERLOOP_KAFKA_PORT={settings.port})")
        ensure_port_free(
            HOST,
            settings.controller_port,
            f"the Kafka controller (PEERLOOP_KAFKA_CONTROLLER_PORT={settings.controller_port})",
        )
        libs = ensure_jars()
        java = java_binary()
        log4j = log4j_config_file()
        if not log4j.is_file():
            raise InfraError(f"{log4j} is missing; run from a complete peerloop checkout")

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.properties_file.write_text(server_properties(settings))
        if not _is_formatted(settings):
            _format_storage(settings, java, libs)

        argv = [
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
        (settings.dir / "started_at").write_text(f"{time.time():.3f}\n")
        with proc.log_file.open("a") as log:
            log.write(f"{_START_MARK} {time.strftime('%Y-%m-%d %H:%M:%S')}: {shlex.join(argv)}\n")
        pid = proc.start(argv, cwd=settings.dir)
        (settings.dir / "last_pid").write_text(f"{pid}\n")


def _running_pid(settings: KafkaSettings) -> int | None:
    """Our broker's pid, dropping a stale pid file (reboot, pid reused by another program)."""
    proc = _process(settings)
    pid = proc.pid()
    if pid is None:
        return _adopt_stray(settings)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc (macOS): trust the pid file
    if (
        MAIN_CLASS.encode() in cmdline and str(settings.properties_file).encode() in cmdline
    ) or exec_pending(pid):
        return pid
    proc.pid_file.unlink(missing_ok=True)
    return _adopt_stray(settings)


def _adopt_stray(settings: KafkaSettings) -> int | None:
    """A broker on our config that no pid file names: record it so it is stopped."""
    strays = pids_with_args(MAIN_CLASS.encode(), str(settings.properties_file).encode())
    if not strays:
        return None
    _process(settings).pid_file.write_text(str(strays[0]))
    return strays[0]


def stop(settings: KafkaSettings, grace_seconds: float = 30.0) -> bool:
    """SIGTERM (the broker shuts down in a controlled way), SIGKILL after the grace period.

    Returns True if our broker was running; then afterwards neither port is
    listening, or this raises saying so. Anything else on the ports is left alone.
    """
    if _running_pid(settings) is None:
        return False  # a foreign listener on our ports is reported by status(), not killed
    _process(settings).stop(grace_seconds)
    for port in (settings.port, settings.controller_port):
        try:
            wait_until(functools.partial(_port_closed, port), timeout=10.0, what=f"port {port}")
        except InfraError:
            raise InfraError(
                f"the Kafka broker is stopped but {HOST}:{port} is still listening: "
                f"another program holds it (`ss -ltnp 'sport = :{port}'` shows which)."
            ) from None
    return True


def _port_closed(port: int) -> bool:
    return not port_open(HOST, port)


def reset(settings: KafkaSettings) -> None:
    """Stop the broker and delete its data (topics, offsets, metadata, cluster id)."""
    stop(settings)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    (settings.dir / "cluster.id").unlink(missing_ok=True)


class KafkaStatus(TypedDict):
    state: Literal["running", "starting", "stopped", "port-taken"]
    pid: int | None
    bootstrap: str
    broker_port_open: bool
    controller_port_open: bool
    formatted: bool
    log: str


def status(settings: KafkaSettings) -> KafkaStatus:
    """What is actually there: our process (by pid file + command line) and the ports.

    state: running    our broker is alive and listening
           starting   our broker is alive, not listening (yet); see `log`
           port-taken no broker of ours, but something listens on a Kafka port
           stopped    nothing
    """
    pid = _running_pid(settings)
    broker_open = port_open(HOST, settings.port)
    controller_open = port_open(HOST, settings.controller_port)
    state: Literal["running", "starting", "stopped", "port-taken"]
    if pid is not None:
        state = "running" if broker_open and controller_open else "starting"
    elif broker_open or controller_open:
        state = "port-taken"
    else:
        state = "stopped"
    return KafkaStatus(
        state=state,
        pid=pid,
        bootstrap=settings.bootstrap,
        broker_port_open=broker_open,
        controller_port_open=controller_open,
        formatted=_is_formatted(settings),
        log=str(settings.server_log),
    )


def log_tail(settings: KafkaSettings, lines: int = 30) -> str:
    """What the latest start logged: the broker log's end, then the JVM's own output.

    Only output of the latest start is shown, so an old shutdown is not mistaken
    for the reason of a new failure.
    """
    parts: list[str] = []
    started_at = settings.dir / "started_at"
    try:
        fresh = settings.server_log.stat().st_mtime >= started_at.stat().st_mtime
    except FileNotFoundError:
        fresh = False
    if fresh:
        server = settings.server_log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {settings.server_log} (end) ---\n" + "\n".join(server))
    jvm_log = _process(settings).log_file
    with contextlib.suppress(FileNotFoundError):
        jvm = jvm_log.read_text(errors="replace").splitlines()
        marks = [i for i, line in enumerate(jvm) if line.startswith(_START_MARK)]
        jvm = jvm[marks[-1] :] if marks else jvm
        parts.append(f"--- {jvm_log} (JVM output, warnings) ---\n" + "\n".join(jvm[-lines:]))
    return "\n".join(parts)


# --------------------------------------------------------------------------- readiness


def wait_ready(settings: KafkaSettings, timeout: float = 90.0) -> float:
    """Block until a record produced with acks=all is consumed back; returns seconds waited."""
    return asyncio.run(wait_ready_async(settings, timeout))


async def wait_ready_async(settings: KafkaSettings, within_s: float = 90.0) -> float:
    # While the broker boots, aiokafka logs every refused connection and every
    # "coordinator not available" at WARNING/ERROR; those are expected here.
    with _quiet_logger("aiokafka"):
        return await _wait_ready(settings, within_s)


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def _wait_ready(settings: KafkaSettings, within_s: float) -> float:
    began = time.monotonic()
    deadline = began + within_s
    last_error = "the broker port never opened"
    while True:
        pid = _running_pid(settings)
        if pid is None or not pid_alive(pid):
            raise InfraError(
                "the Kafka broker is not running (it exited or was never started).\n"
                + log_tail(settings)
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InfraError(
                f"Kafka on {settings.bootstrap} was not ready after {within_s:.0f}s "
                f"(last problem: {last_error}).\n" + log_tail(settings)
            )
        if port_open(HOST, settings.port):
            try:
                await asyncio.wait_for(_round_trip(settings.bootstrap), timeout=min(remaining, 20))
                return time.monotonic() - began
            except Exception as exc:  # any failure means "not yet"
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        await asyncio.sleep(0.5)


async def _round_trip(bootstrap: str) -> None:
    """Create the readiness topic if needed, produce (acks=all), consume it in a group."""
    await _create(
        bootstrap,
        [TopicSpec(READINESS_TOPIC, partitions=1, replication_factor=1, retention_ms=3_600_000)],
    )
    token = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        request_timeout_ms=10_000,
        client_id="peerloop-ready",
    )
    await producer.start()
    try:
        await producer.send_and_wait(READINESS_TOPIC, token, key=b"readiness")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        READINESS_TOPIC,
        bootstrap_servers=bootstrap,
        group_id="peerloop.__readiness",
        client_id="peerloop-ready",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            batches: dict[Any, list[Any]] = await consumer.getmany(timeout_ms=1000)
            if any(record.value == token for records in batches.values() for record in records):
                await consumer.commit()
                return
    finally:
        await consumer.stop()


# --------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class TopicsResult:
    created: list[str]
    existing: list[str]
    # Existing topics whose partition count differs from the declaration
    # (Kafka can only add partitions; deleting and re-creating is up to the user).
    partition_mismatch: dict[str, tuple[int, int]]  # name -> (declared, actual)


def create_topics(bootstrap: str, topics_yaml_path: Path) -> TopicsResult:
    """Create every topic of topics.yaml and its dead-letter twin; existing ones are fine."""
    return asyncio.run(create_topics_async(bootstrap, topics_yaml_path))


async def create_topics_async(bootstrap: str, topics_yaml_path: Path) -> TopicsResult:
    specs = load_topics(topics_yaml_path)
    created = await _create(bootstrap, specs)
    # The controller answers CreateTopics before the broker has become leader of the
    # new partitions; producing right away gets NOT_LEADER errors for a second or so.
    # Return only once every partition answers a ListOffsets request.
    with _quiet_logger("aiokafka"):
        await _await_leaders(bootstrap, specs)
    existing = [spec.name for spec in specs if spec.name not in created]
    mismatch: dict[str, tuple[int, int]] = {}
    if existing:
        actual = await _partition_counts(bootstrap, existing)
        declared = {spec.name: spec.partitions for spec in specs}
        mismatch = {
            name: (declared[name], actual[name])
            for name in existing
            if name in actual and actual[name] != declared[name]
        }
    return TopicsResult(created=created, existing=existing, partition_mismatch=mismatch)


async def _create(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """Create the topics in one request; returns the names that were new."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="peerloop-admin", request_timeout_ms=30_000
    )
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=spec.configs(),
                )
                for spec in specs
            ],
            timeout_ms=30_000,
        )
    finally:
        await admin.close()
    created: list[str] = []
    failures: list[str] = []
    for error in response.topic_errors:
        name, code = error[0], error[1]
        message = error[2] if len(error) > 2 else None
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:
            failures.append(f"{name}: error {code} {message or ''}".rstrip())
    if failures:
        raise InfraError(f"could not create Kafka topics on {bootstrap}:\n" + "\n".join(failures))
    return created


async def _await_leaders(bootstrap: str, specs: list[TopicSpec], within_s: float = 30.0) -> None:
    partitions = [
        TopicPartition(spec.name, index) for spec in specs for index in range(spec.partitions)
    ]
    # Subscribing (no group) loads the metadata of all topics at once; without it
    # aiokafka learns one unknown topic per 100 ms metadata refresh.
    consumer = AIOKafkaConsumer(
        *(spec.name for spec in specs),
        bootstrap_servers=bootstrap,
        client_id="peerloop-admin",
        enable_auto_commit=False,
        request_timeout_ms=int(within_s * 1000),
    )
    await consumer.start()
    try:
        await consumer.end_offsets(partitions)
    except Exception as exc:
        raise InfraError(
            f"topics were created on {bootstrap} but not all partitions got a leader "
            f"within {within_s:.0f}s ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        await consumer.stop()


async def _partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="peerloop-admin")
    await admin.start()
    try:
        described: list[dict[str, Any]] = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in described
        if topic.get("error_code", 0) == 0
    }
