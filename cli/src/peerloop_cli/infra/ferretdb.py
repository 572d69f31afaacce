"""A local MongoDB-compatible store: FerretDB 1.x with its SQLite backend.

FerretDB is built once from the Go module proxy by
`deploy/local/ferretdb/build.sh` and cached at
`<cache_dir>/ferretdb-v1.24.2/ferretdb`; nothing needs Docker. Data lives in
`<state_dir>/ferretdb/data/` (one SQLite file per database), the pid file and
log next to it.

    settings = FerretSettings.from_env()
    start(settings)
    wait_ready(settings)
    ...
    stop(settings)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from peerloop_cli.infra.paths import cache_dir, component_dir, repo_root
from peerloop_cli.infra.process import (
    InfraError,
    ManagedProcess,
    ensure_port_free,
    exec_pending,
    pids_with_args,
    port_open,
    wait_until,
)

log = logging.getLogger(__name__)

FERRETDB_VERSION = "v1.24.2"
NAME = "ferretdb"
DEFAULT_PORT = 27017
BUILD_TIMEOUT_SECONDS = 1800.0
_READY_DB = "peerloop_readiness"
_LOG_LEVELS = ("debug", "info", "warn", "error")


@dataclass(frozen=True)
class FerretSettings:
    """Where FerretDB listens. Only loopback: this is a development store."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    log_level: str = "error"
    """FerretDB's --log-level. `warn` logs every error reply (each DuplicateKeyError,
    each `endSessions` a pymongo client sends on close) as a ~20-line dump."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FerretSettings:
        """`PEERLOOP_MONGO_PORT` (default 27017), `PEERLOOP_FERRETDB_LOG_LEVEL`
        (debug|info|warn|error, default error)."""
        env = os.environ if env is None else env
        port = DEFAULT_PORT
        raw = env.get("PEERLOOP_MONGO_PORT", "").strip()
        if raw:
            try:
                port = int(raw)
            except ValueError:
                raise InfraError(f"PEERLOOP_MONGO_PORT={raw!r} is not a port number") from None
            if not 0 < port < 65536:
                raise InfraError(f"PEERLOOP_MONGO_PORT={port} is outside 1..65535")
        level = env.get("PEERLOOP_FERRETDB_LOG_LEVEL", "").strip().lower() or "error"
        if level not in _LOG_LEVELS:
            raise InfraError(
                f"PEERLOOP_FERRETDB_LOG_LEVEL={level!r} is not one of {', '.join(_LOG_LEVELS)}"
            )
        return cls(port=port, log_level=level)

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
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def ferret_state_dir(self) -> Path:
        """FerretDB's own state (state.json: instance id, telemetry choice)."""
        return self.dir / "state"


@dataclass(frozen=True)
class FerretStatus:
    running: bool
    """Our FerretDB process is alive (pid file checked against /proc)."""
    pid: int | None
    listening_on: str | None
    """Address our running process was started with."""
    port_open: bool
    """Something accepts connections on the configured address."""
    responding: bool
    """A MongoDB `ping` on the configured address succeeded."""
    detail: str


# --------------------------------------------------------------------------- binary


def binary_path() -> Path:
    return cache_dir() / f"ferretdb-{FERRETDB_VERSION}" / "ferretdb"


def build_script() -> Path:
    return repo_root() / "deploy" / "local" / "ferretdb" / "build.sh"


def find_go() -> str | None:
    """`$PEERLOOP_GO`, then `go` on PATH, then the usual install locations."""
    explicit = os.environ.get("PEERLOOP_GO")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("go")
    if found:
        return found
    for candidate in (Path("/usr/local/go/bin/go"), Path.home() / "go" / "bin" / "go"):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_binary(*, rebuild: bool = False) -> Path:
    """Return the FerretDB binary, building it on first use (about a minute).

    `$PEERLOOP_FERRETDB_BIN` short-circuits the build with a binary you provide.
    The Go caches used for the build (~1 GB) live under the peerloop cache and
    are removed after a successful build unless `PEERLOOP_KEEP_GO_CACHE=1`.
    """
    override = os.environ.get("PEERLOOP_FERRETDB_BIN")
    if override:
        path = Path(override)
        if not os.access(path, os.X_OK):
            raise InfraError(
                f"PEERLOOP_FERRETDB_BIN={override} is not an executable file; "
                "unset it to let peerloop build FerretDB itself."
            )
        return path

    target = binary_path()
    if not rebuild and _usable(target):
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / "build.lock"):
        # Another process may have finished the build while we waited.
        if not rebuild and _usable(target):
            return target
        _build(target)
    return target


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(target: Path) -> None:
    go = find_go()
    if go is None:
        raise InfraError(
            f"FerretDB {FERRETDB_VERSION} is built from source and needs Go >= 1.24, "
            "but `go` was not found. Install it from https://go.dev/dl/ (or put it on "
            "PATH / set PEERLOOP_GO=/path/to/go), or point PEERLOOP_FERRETDB_BIN at a "
            "prebuilt FerretDB 1.x binary."
        )
    script = build_script()
    if not script.is_file():
        raise InfraError(f"{script} is missing; is this a complete peerloop checkout?")

    work = target.parent
    go_cache = work / "go-build-cache"
    go_mod_cache = work / "go-mod-cache"
    build_log = work / "build.log"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(go).parent), env.get("PATH", "")])
    env["GOCACHE"] = str(go_cache)
    env["GOMODCACHE"] = str(go_mod_cache)

    log.warning(
        "building FerretDB %s with %s (once, about a minute; log: %s)",
        FERRETDB_VERSION,
        go,
        build_log,
    )
    started = time.monotonic()
    with build_log.open("wb") as out:
        try:
            result = subprocess.run(  # noqa: S603 - fixed script from this repository
                ["bash", str(script), str(target)],  # noqa: S607 - bash from PATH
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=work,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InfraError(
                f"building FerretDB took more than {BUILD_TIMEOUT_SECONDS:.0f}s; see {build_log}"
            ) from None
    if result.returncode != 0 or not _usable(target):
        tail = "\n".join(build_log.read_text(errors="replace").splitlines()[-25:])
        raise InfraError(
            f"building FerretDB {FERRETDB_VERSION} failed (exit {result.returncode}).\n"
            f"{tail}\n"
            f"Full log: {build_log}\n"
            "Usual causes: no access to the Go module proxy (check GOPROXY, default "
            "https://proxy.golang.org), or Go older than 1.24 with GOTOOLCHAIN=local "
            f"(`{go} version`). Fix it and run the command again, or set "
            "PEERLOOP_FERRETDB_BIN to a prebuilt FerretDB 1.x binary."
        )
    log.warning("built FerretDB in %.0fs: %s", time.monotonic() - started, target)
    if os.environ.get("PEERLOOP_KEEP_GO_CACHE") != "1":
        # -modcacherw in build.sh keeps the module cache deletable.
        shutil.rmtree(go_cache, ignore_errors=True)
        shutil.rmtree(go_mod_cache, ignore_errors=True)


# --------------------------------------------------------------------------- process


def _process() -> ManagedProcess:
    return ManagedProcess(NAME)


def _address_file() -> Path:
    return component_dir(NAME) / "listen"


def _our_pid() -> int | None:
    """The pid from the pid file, if that process is alive *and* is FerretDB.

    A pid file that outlived a reboot can name an unrelated process; such a
    file is removed instead of being trusted.
    """
    proc = _process()
    pid = proc.pid()
    if pid is None:
        return _adopt_stray()
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc (not Linux): trust the pid file
    if (
        any(arg.startswith(b"--sqlite-url=") for arg in cmdline)
        or (cmdline and NAME in Path(os.fsdecode(cmdline[0])).name.lower())
        or exec_pending(pid)
    ):
        return pid
    proc.pid_file.unlink(missing_ok=True)
    return _adopt_stray()


def _adopt_stray() -> int | None:
    """A FerretDB on our data directory that no pid file names: record it so it is stopped."""
    data_url = f"--sqlite-url={FerretSettings().data_dir.as_uri()}/"
    strays = pids_with_args(data_url.encode())
    if not strays:
        return None
    _process().pid_file.write_text(str(strays[0]))
    return strays[0]


def _recorded_address() -> str | None:
    try:
        return _address_file().read_text().strip() or None
    except FileNotFoundError:
        return None


def argv(settings: FerretSettings, binary: Path) -> list[str]:
    return [
        str(binary),
        f"--listen-addr={settings.address}",
        "--handler=sqlite",
        # A directory URI: FerretDB keeps one <database>.sqlite file per database.
        f"--sqlite-url={settings.data_dir.as_uri()}/",
        f"--state-dir={settings.ferret_state_dir}",
        "--telemetry=disable",
        f"--log-level={settings.log_level}",
        # No debug/metrics HTTP listener (default 127.0.0.1:8088 would clash
        # between instances and with other tools).
        "--debug-addr=-",
    ]


def start(settings: FerretSettings, *, startup_timeout: float = 15.0) -> int:
    """Start FerretDB detached and wait until it listens; returns the pid.

    Harmless when it already runs on the same address. Raises InfraError when
    the port belongs to something else or FerretDB exits during start-up.
    """
    # Serialise concurrent `start` calls (parallel test workers): a loser would
    # otherwise overwrite the pid file of the winner.
    with _locked(component_dir(NAME) / "start.lock"):
        return _start_locked(settings, startup_timeout)


def _start_locked(settings: FerretSettings, startup_timeout: float) -> int:
    pid = _our_pid()
    if pid is not None:
        recorded = _recorded_address()
        if recorded not in (None, settings.address):
            raise InfraError(
                f"FerretDB already runs (pid {pid}) on {recorded}, not on {settings.address}; "
                "stop it first (`python -m peerloop_cli.infra.ferretdb stop`)."
            )
        return pid

    ensure_port_free(settings.host, settings.port, "FerretDB")
    binary = ensure_binary()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.ferret_state_dir.mkdir(parents=True, exist_ok=True)

    proc = _process()
    pid = proc.start(argv(settings, binary), cwd=settings.dir)
    _address_file().write_text(settings.address)

    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if _our_pid() is None:
            _address_file().unlink(missing_ok=True)
            raise InfraError(
                f"FerretDB exited during start-up on {settings.address}. Last log lines "
                f"({proc.log_file}):\n{proc.log_tail()}"
            )
        if port_open(settings.host, settings.port):
            return pid
        time.sleep(0.05)
    tail = proc.log_tail()
    proc.stop()
    _address_file().unlink(missing_ok=True)
    raise InfraError(
        f"FerretDB did not listen on {settings.address} within {startup_timeout:.0f}s "
        f"and was stopped. Last log lines ({proc.log_file}):\n{tail}"
    )


def _client(settings: FerretSettings, timeout_ms: int) -> MongoClient[dict[str, Any]]:
    return MongoClient(
        settings.url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms, 5000),
        appname="peerloop-infra",
    )


def _round_trip(settings: FerretSettings, timeout_ms: int) -> None:
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
            raise InfraError(f"FerretDB on {settings.address} lost a write: read back {doc!r}")
    finally:
        if reachable:
            with contextlib.suppress(PyMongoError):
                client.drop_database(db_name)
        client.close()


def wait_ready(settings: FerretSettings, timeout: float = 30.0) -> float:
    """Block until FerretDB answers a ping and an insert/find round trip.

    Returns the seconds waited. Raises InfraError on timeout or if our process
    dies meanwhile (with the end of its log).
    """
    started = time.monotonic()
    deadline = started + timeout
    last_error: Exception | None = None
    managed = _our_pid() is not None
    while True:
        remaining = deadline - time.monotonic()
        try:
            _round_trip(settings, timeout_ms=max(200, min(2000, int(remaining * 1000))))
            return time.monotonic() - started
        except PyMongoError as exc:
            last_error = exc
        if managed and _our_pid() is None:
            raise InfraError(
                f"FerretDB died while waiting for it to be ready. Last log lines "
                f"({_process().log_file}):\n{_process().log_tail()}"
            )
        if time.monotonic() >= deadline:
            raise InfraError(
                f"FerretDB on {settings.address} was not ready after {timeout:.0f}s: "
                f"{last_error}. Log: {_process().log_file}"
            )
        time.sleep(0.1)


def stop(settings: FerretSettings, grace_seconds: float = 20.0) -> bool:
    """Stop our FerretDB (SIGTERM, then SIGKILL). True if one was running.

    Afterwards nothing of ours listens; if the port stays open, it belongs to
    another process and InfraError says so.
    """
    address = _recorded_address() or settings.address
    was_running = _our_pid() is not None
    if was_running:
        _process().stop(grace_seconds=grace_seconds)
    else:
        _process().pid_file.unlink(missing_ok=True)
    _address_file().unlink(missing_ok=True)
    if was_running:
        host, _, port = address.rpartition(":")
        wait_until(
            lambda: not port_open(host, int(port)),
            timeout=10.0,
            what=f"{address} to close after stopping FerretDB",
        )
    return was_running


def status(settings: FerretSettings) -> FerretStatus:
    pid = _our_pid()
    recorded = _recorded_address() if pid is not None else None
    is_open = port_open(settings.host, settings.port)
    responding = False
    if is_open:
        client = _client(settings, timeout_ms=1000)
        try:
            client.admin.command("ping")
            responding = True
        except PyMongoError:
            responding = False
        finally:
            client.close()

    if pid is not None and recorded not in (None, settings.address):
        detail = f"FerretDB runs (pid {pid}) on {recorded}, not on {settings.address}"
        if is_open:
            detail += f"; {settings.address} is used by another process"
    elif pid is not None and responding:
        detail = f"FerretDB running (pid {pid}) on {settings.address}"
    elif pid is not None and is_open:
        detail = f"FerretDB (pid {pid}) listens on {settings.address} but does not answer ping"
    elif pid is not None:
        detail = f"FerretDB (pid {pid}) is alive but not listening on {settings.address}"
    elif is_open:
        what = "a MongoDB-compatible server" if responding else "another process"
        detail = f"FerretDB not running, but {settings.address} is taken by {what}"
    else:
        detail = "FerretDB stopped"
    return FerretStatus(
        running=pid is not None,
        pid=pid,
        listening_on=recorded,
        port_open=is_open,
        responding=responding,
        detail=detail,
    )


def _main(args: list[str]) -> int:
    """`python -m peerloop_cli.infra.ferretdb build|start|stop|status` (manual use)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = FerretSettings.from_env()
    command = args[0] if args else "status"
    try:
        if command == "build":
            print(ensure_binary(rebuild="--rebuild" in args))
        elif command == "start":
            pid = start(settings)
            waited = wait_ready(settings)
            print(f"FerretDB ready (pid {pid}) on {settings.url} after {waited:.2f}s")
        elif command == "stop":
            print("stopped" if stop(settings) else "was not running")
        elif command == "status":
            print(status(settings).detail)
        else:
            print("usage: python -m peerloop_cli.infra.ferretdb build|start|stop|status")
            return 2
    except InfraError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
