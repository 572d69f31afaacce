"""The local MongoDB-compatible store: mongo-java-server on its H2 (MVStore) backend.

No Docker and no build toolchain beyond the JDK: the server's jars come from Maven
Central through `deploy/local/mongo-java-server/pom.xml`, and the small launcher
beside it (`PeerloopStore.java`: MongoDB 5.0 wire version, a commit after every
write, `_id` lookups for filters on `_id` plus more) is compiled with `javac` on
first use. What the store does and does not
support is in `deploy/local/mongo-java-server/FEATURES.md`.

    settings = StoreSettings.from_env()
    start(settings)                   # no-op if it runs already
    wait_ready(settings)              # a write was read back
    status(settings)
    stop(settings)                    # SIGTERM (the MVStore is closed), SIGKILL after grace

Files:
    <cache>/mongo-java-server-<version>/libs/*.jar           the classpath (+ `.complete`)
    <cache>/mongo-java-server-<version>/launcher-<digest>/   the compiled launcher
    <state>/mongo-java-server/data/peerloop.mv.db            every database, one file
    <state>/mongo-java-server/pid, last_pid, listen, mongo-java-server.log
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from peerloop_cli.infra.component import LocalComponent, problem_of
from peerloop_cli.infra.jvm import fetch_jars, java_binary, locked
from peerloop_cli.infra.paths import cache_dir, component_dir, repo_root
from peerloop_cli.infra.process import InfraError, env_port, port_open

log = logging.getLogger(__name__)

VERSION = "1.47.0"
NAME = "mongo-java-server"
MAIN_CLASS = "PeerloopStore"
DEFAULT_PORT = 27017
DEFAULT_HEAP = "-Xmx384m"
_READY_DB = "peerloop_readiness"


@dataclass(frozen=True)
class StoreSettings:
    """Where the store listens. Only loopback: this is a development store."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    heap: str = DEFAULT_HEAP
    """JVM memory options. The data is on disk; the heap holds the MVStore's cache
    and what queries read, so a small one does for development data."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreSettings:
        """`PEERLOOP_MONGO_PORT` (default 27017), `PEERLOOP_STORE_HEAP` (default -Xmx384m)."""
        env = os.environ if env is None else env
        port = env_port("PEERLOOP_MONGO_PORT", DEFAULT_PORT, env)
        heap = env.get("PEERLOOP_STORE_HEAP", "").strip() or DEFAULT_HEAP
        return cls(port=port, heap=heap)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Connection string for pymongo (`directConnection`: no replica set)."""
        return f"mongodb://{self.address}/?directConnection=true"

    @property
    def dir(self) -> Path:
        return component_dir(NAME)

    @property
    def data_file(self) -> Path:
        return self.dir / "data" / "peerloop.mv.db"


@dataclass(frozen=True)
class StoreStatus:
    running: bool
    """Our store process is alive (pid file checked against /proc)."""
    pid: int | None
    listening_on: str | None
    """Address our running process was started with."""
    port_open: bool
    """Something accepts connections on the configured address."""
    responding: bool
    """A MongoDB `ping` on the configured address succeeded."""
    detail: str


# --------------------------------------------------------------------------- jars


def _files() -> Path:
    return repo_root() / "deploy" / "local" / "mongo-java-server"


def pom_file() -> Path:
    return _files() / "pom.xml"


def launcher_source() -> Path:
    return _files() / f"{MAIN_CLASS}.java"


def libs_dir() -> Path:
    return cache_dir() / f"{NAME}-{VERSION}" / "libs"


def _has_server_jars(names: set[str]) -> bool:
    needed = (
        f"mongo-java-server-core-{VERSION}.jar",
        f"mongo-java-server-h2-backend-{VERSION}.jar",
    )
    return all(name in names for name in needed) and any(name.startswith("h2-") for name in names)


def ensure_classpath() -> str:
    """The server's classpath: jars fetched through Maven and the launcher compiled, once."""
    libs = fetch_jars(pom_file(), libs_dir(), what="mongo-java-server", complete=_has_server_jars)
    source = launcher_source()
    if not source.is_file():
        raise InfraError(f"{source} is missing; run from a complete peerloop checkout")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    classes = libs.parent / f"launcher-{digest}"
    compiled = classes / f"{MAIN_CLASS}.class"
    if not compiled.is_file():
        with locked(libs.parent / ".compile.lock"):
            if not compiled.is_file():
                _compile(source, libs, classes)
    return f"{libs / '*'}{os.pathsep}{classes}"


def _compile(source: Path, libs: Path, classes: Path) -> None:
    javac = java_binary("javac")
    staging = classes.parent / f"{classes.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    argv = [javac, "-d", str(staging), "-cp", str(libs / "*"), str(source)]
    result = subprocess.run(  # noqa: S603 - fixed argv
        argv, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InfraError(
            f"compiling the store launcher failed (`{shlex.join(argv)}` exited "
            f"{result.returncode}):\n{(result.stdout + result.stderr).strip()}"
        )
    staging.rename(classes)


# --------------------------------------------------------------------------- process


class LocalStore(LocalComponent):
    poll_interval = 0.1
    # The store may be one this package did not start (its port named by the settings).
    ready_needs_process = False

    def __init__(self, settings: StoreSettings, startup_timeout: float = 30.0) -> None:
        self.settings = settings
        self.host = settings.host
        self.startup_timeout = startup_timeout

    @property
    def name(self) -> str:
        return NAME

    @property
    def what(self) -> str:
        return "the store"

    @property
    def start_mark(self) -> str:
        return "=== peerloop starting the store"

    @property
    def ports(self) -> tuple[tuple[int, str], ...]:
        return ((self.settings.port, "PEERLOOP_MONGO_PORT"),)

    def signature(self) -> tuple[bytes, ...]:
        return MAIN_CLASS.encode(), str(self.settings.data_file).encode()

    def check_same_settings(self, pid: int) -> None:
        recorded = _recorded_address()
        if recorded not in (None, self.settings.address):
            raise InfraError(
                f"the store already runs (pid {pid}) on {recorded}, not on "
                f"{self.settings.address}; stop it first (`peerloop infra down`)."
            )

    def prepare_command(self) -> list[str]:
        classpath = ensure_classpath()
        java = java_binary()
        self.settings.data_file.parent.mkdir(parents=True, exist_ok=True)
        return argv(self.settings, java, classpath)

    def after_start(self, pid: int) -> None:
        """Wait until it listens: a store that exits at once says why here."""
        _address_file().write_text(self.settings.address)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                _address_file().unlink(missing_ok=True)
                raise InfraError(
                    f"the store exited during start-up on {self.settings.address}.\n"
                    + self.log_tail()
                )
            if port_open(self.settings.host, self.settings.port):
                return
            time.sleep(0.05)
        tail = self.log_tail()
        self.process.stop()
        _address_file().unlink(missing_ok=True)
        raise InfraError(
            f"the store did not listen on {self.settings.address} within "
            f"{self.startup_timeout:.0f}s and was stopped.\n{tail}"
        )

    def after_stop(self) -> None:
        _address_file().unlink(missing_ok=True)

    def listening_ports(self) -> tuple[int, ...]:
        recorded = _recorded_address()
        return (int(recorded.rpartition(":")[2]),) if recorded else (self.settings.port,)

    def probe(self, within_s: float) -> str | None:
        try:
            _round_trip(self.settings, timeout_ms=max(200, min(2000, int(within_s * 1000))))
        except PyMongoError as exc:
            return problem_of(exc)
        return None

    def serving(self) -> bool:
        return _pings(self.settings)


def _address_file() -> Path:
    return component_dir(NAME) / "listen"


def _recorded_address() -> str | None:
    try:
        return _address_file().read_text().strip() or None
    except FileNotFoundError:
        return None


def argv(settings: StoreSettings, java: str, classpath: str) -> list[str]:
    return [
        java,
        *shlex.split(settings.heap),
        # One GC thread and no JIT tiers beyond C1: the store is small, and on a
        # two-core laptop shared with Kafka and the services the JVM's own threads
        # would otherwise compete for the CPU.
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        # INFO logs every connection opened and closed.
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-cp",
        classpath,
        MAIN_CLASS,
        settings.host,
        str(settings.port),
        str(settings.data_file),
    ]


def start(settings: StoreSettings, *, startup_timeout: float = 30.0) -> int:
    """Start the store detached and wait until it listens; returns the pid.

    Harmless when it already runs on the same address. Raises InfraError when the
    port belongs to something else or the server exits during start-up.
    """
    return LocalStore(settings, startup_timeout).start()


def log_tail(lines: int = 30) -> str:
    """What the latest start logged (an old shutdown is not the reason of a new failure)."""
    return LocalStore(StoreSettings.from_env()).log_tail(lines)


def _client(settings: StoreSettings, timeout_ms: int) -> MongoClient[dict[str, Any]]:
    return MongoClient(
        settings.url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms, 5000),
        appname="peerloop-infra",
    )


def _round_trip(settings: StoreSettings, timeout_ms: int) -> None:
    """ping, then write and read back a document in a scratch database.

    Each probe uses its own database (dropped afterwards), so concurrent probes
    from parallel workers cannot see or drop each other's data.
    """
    client = _client(settings, timeout_ms)
    db_name = f"{_READY_DB}_{uuid.uuid4().hex[:12]}"
    reachable = False
    try:
        client.admin.command("ping")
        reachable = True
        probe = client[db_name]["probe"]
        marker = uuid.uuid4().hex
        probe.insert_one({"_id": "probe", "marker": marker})
        doc = probe.find_one({"_id": "probe"})
        if doc is None or doc.get("marker") != marker:
            raise InfraError(f"the store on {settings.address} lost a write: read back {doc!r}")
    finally:
        if reachable:
            with contextlib.suppress(PyMongoError):
                client.drop_database(db_name)
        client.close()


def _pings(settings: StoreSettings) -> bool:
    client = _client(settings, timeout_ms=1000)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


def wait_ready(settings: StoreSettings, timeout: float = 30.0) -> float:
    """Block until the store answers a ping and an insert/find round trip.

    Returns the seconds waited. Raises InfraError on timeout or if our process dies
    meanwhile (with the end of its log).
    """
    store = LocalStore(settings)
    # A store this package started must stay alive while it is awaited.
    store.ready_needs_process = store.running_pid() is not None
    return store.wait_ready(timeout)


def stop(settings: StoreSettings, grace_seconds: float = 20.0) -> bool:
    """Stop our store (SIGTERM: it closes the MVStore; SIGKILL after the grace period).

    True if one was running. Afterwards nothing of ours listens; if the port stays
    open, it belongs to another process and InfraError says so.
    """
    return LocalStore(settings).stop(grace_seconds)


def kill(settings: StoreSettings) -> None:
    """SIGKILL at once, as a crash would (fault and durability tests)."""
    LocalStore(settings).kill()


def status(settings: StoreSettings) -> StoreStatus:
    found = LocalStore(settings).state()
    pid = found.pid
    recorded = _recorded_address() if pid is not None else None
    is_open = settings.port in found.open_ports
    responding = is_open and (found.state == "running" or _pings(settings))

    what = f"mongo-java-server {VERSION}"
    if pid is not None and recorded not in (None, settings.address):
        detail = f"{what} runs (pid {pid}) on {recorded}, not on {settings.address}"
        if is_open:
            detail += f"; {settings.address} is used by another process"
    elif pid is not None and responding:
        detail = f"{what} running (pid {pid}) on {settings.address}"
    elif pid is not None and is_open:
        detail = f"{what} (pid {pid}) listens on {settings.address} but does not answer ping"
    elif pid is not None:
        detail = f"{what} (pid {pid}) is alive but not listening on {settings.address}"
    elif is_open:
        other = "a MongoDB-compatible server" if responding else "another process"
        detail = f"the store is not running, but {settings.address} is taken by {other}"
    else:
        detail = "the store is stopped"
    return StoreStatus(
        running=pid is not None,
        pid=pid,
        listening_on=recorded,
        port_open=is_open,
        responding=responding,
        detail=detail,
    )


def _main(args: list[str]) -> int:
    """`python -m peerloop_cli.infra.mongo_java_server fetch|start|stop|status` (manual use)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = StoreSettings.from_env()
    command = args[0] if args else "status"
    try:
        if command == "fetch":
            print(ensure_classpath())
        elif command == "start":
            pid = start(settings)
            waited = wait_ready(settings)
            print(f"store ready (pid {pid}) on {settings.url} after {waited:.2f}s")
        elif command == "stop":
            print("stopped" if stop(settings) else "was not running")
        elif command == "status":
            print(status(settings).detail)
        else:
            print("usage: python -m peerloop_cli.infra.mongo_java_server fetch|start|stop|status")
            return 2
    except InfraError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
