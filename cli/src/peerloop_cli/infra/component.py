"""One shape for every local server `peerloop infra` runs: Kafka, the store, Keycloak.

A component supplies only what differs: its name, ports, the command-line
arguments that make a process ours (`signature`), what to fetch and write before
a start (`prepare_command`) and a readiness probe. Everything else is here, once:

    <state>/<name>/pid         the running process (ManagedProcess)
    <state>/<name>/last_pid    the previous start, for the ports a killed JVM still holds
    <state>/<name>/started_at  when the latest start began
    <state>/<name>/start.lock  serialises concurrent starts (parallel test workers)
    <state>/<name>/<name>.log  process output, each start marked, so a failure shows its own

A process of ours that no pid file names (a start that raised after the fork, a
pid file removed by a racing stop, an earlier run) is adopted: its pid is written
to the pid file, so the next `stop` ends it and no second copy is ever started.
A pid file naming anything else (a reboot, a reused pid) is dropped.
"""

from __future__ import annotations

import abc
import functools
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from peerloop_cli.infra.jvm import locked
from peerloop_cli.infra.paths import component_dir
from peerloop_cli.infra.process import (
    InfraError,
    ManagedProcess,
    ensure_port_free,
    exec_pending,
    pid_alive,
    pids_with_args,
    port_open,
    wait_for_previous_exit,
    wait_until,
)

State = Literal["running", "starting", "stopped", "port-taken"]


@dataclass(frozen=True)
class ComponentState:
    """What is actually there: our process (pid file checked against /proc) and the ports.

    state: running    our process is alive and serving
           starting   our process is alive, not serving (yet)
           port-taken no process of ours, but something listens on one of our ports
           stopped    nothing
    """

    state: State
    pid: int | None
    open_ports: tuple[int, ...]


class LocalComponent(abc.ABC):
    """A local server run as a detached process and found again by its command line."""

    host: str = "127.0.0.1"
    poll_interval: float = 0.5
    """Seconds between readiness probes."""
    ready_needs_process: bool = True
    """False: `wait_ready` also waits for a server this package did not start."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The state directory's name, and so of its pid file and log."""

    @property
    @abc.abstractmethod
    def what(self) -> str:
        """How messages name it ("Kafka", "the store")."""

    @property
    @abc.abstractmethod
    def ports(self) -> tuple[tuple[int, str], ...]:
        """Each port it listens on, with the settings variable that chose it."""

    @abc.abstractmethod
    def signature(self) -> tuple[bytes, ...]:
        """Arguments every command line of ours holds exactly, and no other's."""

    @abc.abstractmethod
    def prepare_command(self) -> list[str]:
        """Fetch what is missing, write the configuration; the command line to run."""

    @abc.abstractmethod
    def probe(self, within_s: float) -> str | None:
        """None when it serves; otherwise what is not right yet."""

    # --------------------------------------------------------------- what may differ

    def environment(self) -> dict[str, str]:
        """Extra environment of the process (secrets stay off the visible command line)."""
        return {}

    @property
    def cwd(self) -> Path:
        return self.dir

    def check_same_settings(self, pid: int) -> None:  # noqa: B027 - an optional hook
        """Raise InfraError when our running process was started with other settings."""

    def after_start(self, pid: int) -> None:  # noqa: B027 - an optional hook
        """Runs under the start lock right after the process was started."""

    def after_stop(self) -> None:  # noqa: B027 - an optional hook
        """Runs after our process ended (stop or kill)."""

    def listening_ports(self) -> tuple[int, ...]:
        """The ports our running process holds, which a stop waits to see closed."""
        return tuple(port for port, _ in self.ports)

    def serving(self) -> bool:
        """For `state`: our running process serves (a quick check)."""
        return self.probe(within_s=2.0) is None

    def log_tail(self, lines: int = 30) -> str:
        """The process output of the latest start only."""
        text = self.output_since_start()
        if text is None:
            return ""
        return f"--- {self.process.log_file} (end) ---\n" + "\n".join(text[-lines:])

    # --------------------------------------------------------------- the shared shape

    @property
    def dir(self) -> Path:
        return component_dir(self.name)

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name)

    @property
    def start_mark(self) -> str:
        return f"=== peerloop starting {self.name}"

    def running_pid(self) -> int | None:
        """Our process's pid, dropping a stale pid file and adopting a stray of ours."""
        proc = self.process
        pid = proc.pid()
        if pid is None:
            return self._adopt_stray()
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return pid  # no /proc (macOS): trust the pid file
        if all(arg in cmdline for arg in self.signature()) or exec_pending(pid):
            return pid
        proc.pid_file.unlink(missing_ok=True)
        return self._adopt_stray()

    def _adopt_stray(self) -> int | None:
        strays = pids_with_args(*self.signature())
        if not strays:
            return None
        self.process.pid_file.write_text(str(strays[0]))
        return strays[0]

    def start(self) -> int:
        """Start detached; returns the pid. Returns at once when ours already runs.

        Raises InfraError when a port is taken by something else, or when ours
        runs with other settings.
        """
        with locked(self.dir / "start.lock"):
            pid = self.running_pid()
            if pid is not None:
                self.check_same_settings(pid)
                return pid
            wait_for_previous_exit(
                self.dir / "last_pid", self.host, tuple(port for port, _ in self.ports)
            )
            for port, variable in self.ports:
                ensure_port_free(self.host, port, f"{self.what} ({variable}={port})")
            argv = self.prepare_command()
            proc = self.process
            (self.dir / "started_at").write_text(f"{time.time():.3f}\n")
            with proc.log_file.open("a") as log:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                log.write(f"{self.start_mark} {stamp}: {shlex.join(argv)}\n")
            pid = proc.start(argv, cwd=self.cwd, env=self.environment())
            (self.dir / "last_pid").write_text(f"{pid}\n")
            self.after_start(pid)
            return pid

    def stop(self, grace_seconds: float = 30.0) -> bool:
        """SIGTERM (a graceful shutdown), SIGKILL after the grace period.

        True if ours was running; then its ports are closed afterwards, or this
        raises saying who holds them. Anything else on the ports is left alone.
        """
        ports = self.listening_ports()
        if self.running_pid() is None:
            self.process.pid_file.unlink(missing_ok=True)
            self.after_stop()
            return False
        self.process.stop(grace_seconds)
        self.after_stop()
        self._wait_closed(ports, "stopped")
        return True

    def kill(self) -> None:
        """SIGKILL at once, as a crash would (fault and durability tests)."""
        ports = self.listening_ports()
        if self.running_pid() is None:
            return
        self.process.kill()
        self.after_stop()
        self._wait_closed(ports, "killed")

    def _wait_closed(self, ports: tuple[int, ...], after: str) -> None:
        for port in ports:
            try:
                wait_until(
                    functools.partial(self._port_closed, port), timeout=15.0, what=f"port {port}"
                )
            except InfraError:
                raise InfraError(
                    f"{self.what} is {after} but {self.host}:{port} is still listening: "
                    f"another program holds it (`ss -ltnp 'sport = :{port}'` shows which)."
                ) from None

    def _port_closed(self, port: int) -> bool:
        return not port_open(self.host, port)

    def open_ports(self) -> tuple[int, ...]:
        return tuple(port for port, _ in self.ports if port_open(self.host, port))

    def state(self) -> ComponentState:
        pid = self.running_pid()
        open_ports = self.open_ports()
        state: State
        if pid is not None:
            state = "running" if self.serving() else "starting"
        elif open_ports:
            state = "port-taken"
        else:
            state = "stopped"
        return ComponentState(state=state, pid=pid, open_ports=open_ports)

    def wait_ready(self, timeout: float) -> float:
        """Block until `probe` passes; returns the seconds waited.

        Raises InfraError on timeout, or as soon as our process is gone, with the
        end of its log.
        """
        began = time.monotonic()
        deadline = began + timeout
        last_problem = "it never answered"
        while True:
            if self.ready_needs_process:
                pid = self.running_pid()
                if pid is None or not pid_alive(pid):
                    raise InfraError(
                        f"{self.what} is not running (it exited or was never started).\n"
                        + self.log_tail()
                    )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InfraError(
                    f"{self.what} was not ready after {timeout:.0f}s "
                    f"(last problem: {last_problem}).\n" + self.log_tail()
                )
            problem = self.probe(remaining)
            if problem is None:
                return time.monotonic() - began
            last_problem = problem
            time.sleep(self.poll_interval)

    def output_since_start(self) -> list[str] | None:
        """The log's lines from the latest start mark on; None without a log."""
        try:
            text = self.process.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return None
        marks = [i for i, line in enumerate(text) if line.startswith(self.start_mark)]
        return text[marks[-1] :] if marks else text


def problem_of(exc: BaseException) -> str:
    """An exception as a readiness problem: its type, and its message when it has one."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
