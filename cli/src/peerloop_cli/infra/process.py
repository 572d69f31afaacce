"""Start, track and stop long-running local processes through pid files.

Each component gets `<state>/<name>/pid` and `<state>/<name>/<name>.log`.
Processes start in their own session so that stopping one stops its children,
and a stop escalates from SIGTERM to SIGKILL after a grace period so nothing
is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peerloop_cli.infra.paths import component_dir


class InfraError(RuntimeError):
    """A problem the user can fix; the message says how."""


@dataclass(frozen=True)
class ManagedProcess:
    name: str

    @property
    def dir(self) -> Path:
        return component_dir(self.name)

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"

    @property
    def log_file(self) -> Path:
        return self.dir / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start detached; returns the pid. Does nothing if already running."""
        existing = self.pid()
        if existing is not None:
            return existing
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        log = self.log_file.open("ab")
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv is built by this package
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        finally:
            log.close()
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, grace_seconds: float = 20.0) -> bool:
        """SIGTERM the process group, then SIGKILL after the grace period.

        Returns True when something was running.
        """
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), timeout=10.0, what=f"{self.name} to die")
        wait_until(lambda: threads_gone(pid), timeout=10.0, what=f"{self.name} to exit")
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL at once, as a crash would (fault tests)."""
        pid = self.pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), timeout=10.0, what=f"{self.name} to die")
            wait_until(lambda: threads_gone(pid), timeout=10.0, what=f"{self.name} to exit")
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def threads_gone(pid: int) -> bool:
    """No thread of `pid` is left, not even one still exiting.

    A multi-threaded process (a JVM) reads as a zombie as soon as its main thread
    has exited, while its other threads may still hold its files and sockets
    (the H2 file lock, a listening port) for a moment.
    """
    if pid_alive(pid):
        return False
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True  # reaped
    except OSError:
        return True  # no /proc (macOS): pid_alive is all there is
    return threads in ([], [str(pid)])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A free loopback port below the ephemeral range, where client connections cannot take it.

    A port the kernel hands out (`bind(0)`) comes from the ephemeral range, so an
    outgoing connection can grab it between this call and the server's bind.
    """
    while True:
        port = random.randrange(20_000, 32_000)  # noqa: S311 - not a secret
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def env_port(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    """The port in environment variable `name`, or `default` when it is unset or empty."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise InfraError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise InfraError(f"{name}={port} is outside 1..65535")
    return port


def ensure_port_free(host: str, port: int, who: str) -> None:
    if port_open(host, port):
        raise InfraError(
            f"{host}:{port} is already in use, so {who} cannot start there. "
            f"Stop whatever listens on it (`ss -ltnp 'sport = :{port}'` shows it) "
            f"or choose another port with the matching PEERLOOP_* variable."
        )


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}")


def pids_with_args(*args: bytes) -> list[int]:
    """Live processes of this user whose command line holds every one of `args` exactly.

    Finds a server of ours whose pid file was lost (a start that raised after the
    fork, a pid file removed by a racing stop), so that nothing is left running.
    Empty where there is no /proc.
    """
    found: list[int] = []
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return found
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(arg in cmdline for arg in args) and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def exec_pending(pid: int) -> bool:
    """True while a child we just forked has not yet exec'd its program.

    Between fork and exec the child's command line is still ours, and while the
    kernel replaces the program it reads as empty; a check of "is this pid our
    server?" must not mistake either moment for a stale pid file.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return cmdline in (b"", Path("/proc/self/cmdline").read_bytes())
    except OSError:
        return False


def wait_for_previous_exit(last_pid_file: Path, host: str, ports: Sequence[int]) -> None:
    """Give a JVM server we just killed the moment it needs to release its ports.

    After SIGKILL the JVM's main thread is a zombie (so `pid_alive` says dead) while
    its other threads are still exiting and holding the listening sockets.
    `last_pid_file` holds the pid of the server's previous start.
    """
    try:
        pid = int(last_pid_file.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):
        return
    if comm != "java":
        return
    with contextlib.suppress(InfraError):  # still open: ensure_port_free explains
        wait_until(
            lambda: not any(port_open(host, port) for port in ports),
            timeout=15.0,
            what="the previous server to release its ports",
        )
