"""The three services and the mail catcher as separate local processes.

Each runs from the workspace's console scripts with `PEERLOOP_*` settings that
point at the local Kafka and store. State (logs, pid files, caught mail) lives
under the same directory as the infrastructure's.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import component_dir
from peerloop_cli.infra.process import InfraError, ManagedProcess, ensure_port_free, port_open

Progress = Callable[[str], None]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int

    @property
    def port(self) -> int:
        return int(os.environ.get(f"PEERLOOP_{self.name.upper()}_PORT", self.default_port))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(f"svc-{self.name}")


SERVICES = (Service("profiles", 8101), Service("matching", 8102), Service("notifications", 8103))
SERVICE_NAMES = tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    for svc in SERVICES:
        if svc.name == name:
            return svc
    raise InfraError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")


def smtp_port() -> int:
    return int(os.environ.get("PEERLOOP_SMTP_PORT", "1025"))


def mail_dir() -> Path:
    return component_dir("mail") / "messages"


def mail_catcher() -> ManagedProcess:
    return ManagedProcess("mail")


def _bin(name: str) -> str:
    """A console script of this virtual environment."""
    return str(Path(sys.executable).with_name(name))


def service_env(svc: Service, endpoints: stack.Endpoints) -> dict[str, str]:
    return {
        "PEERLOOP_KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "PEERLOOP_MONGODB_URI": endpoints.mongodb_uri,
        # FerretDB applies updates read-modify-write: one connection keeps them atomic.
        "PEERLOOP_MONGODB_MAX_POOL_SIZE": os.environ.get("PEERLOOP_MONGODB_MAX_POOL_SIZE", "1"),
        "PEERLOOP_HTTP_HOST": HOST,
        "PEERLOOP_HTTP_PORT": str(svc.port),
        "PEERLOOP_SMTP_HOST": HOST,
        "PEERLOOP_SMTP_PORT": str(smtp_port()),
    }


def start_mail_catcher(progress: Progress) -> None:
    catcher = mail_catcher()
    if catcher.is_running():
        return
    ensure_port_free(HOST, smtp_port(), "the mail catcher")
    mail_dir().mkdir(parents=True, exist_ok=True)
    catcher.start(
        [
            sys.executable,
            "-m",
            "peerloop_notifications.devtools.mail_catcher",
            "--host",
            HOST,
            "--port",
            str(smtp_port()),
            "--dir",
            str(mail_dir()),
        ]
    )
    _wait(lambda: port_open(HOST, smtp_port()), catcher, 20, "the mail catcher")
    progress(f"mail catcher on {HOST}:{smtp_port()} → {mail_dir()}")


def start_service(svc: Service, endpoints: stack.Endpoints, progress: Progress) -> None:
    if svc.process.is_running():
        return
    ensure_port_free(HOST, svc.port, f"the {svc.name} service")
    svc.process.start([_bin(f"peerloop-{svc.name}")], env=service_env(svc, endpoints))
    progress(f"starting {svc.name} on {svc.url}")


def wait_ready(svc: Service, timeout: float = 90.0) -> None:
    _wait(lambda: _ready(svc), svc.process, timeout, f"{svc.name} to be ready ({svc.url}/readyz)")


def _ready(svc: Service) -> bool:
    try:
        return httpx.get(f"{svc.url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Callable[[], bool], proc: ManagedProcess, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not proc.is_running():
            raise InfraError(f"{what}: the process exited.\n{proc.log_tail(40)}")
        time.sleep(0.3)
    raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}.\n{proc.log_tail(40)}")


def up(progress: Progress) -> stack.Endpoints:
    endpoints = stack.up(progress)
    start_mail_catcher(progress)
    for svc in SERVICES:
        start_service(svc, endpoints, progress)
    for svc in SERVICES:
        wait_ready(svc)
        progress(f"{svc.name} ready")
    return endpoints


def down(progress: Progress) -> None:
    for svc in reversed(SERVICES):
        if svc.process.stop():
            progress(f"{svc.name} stopped")
    if mail_catcher().stop():
        progress("mail catcher stopped")
    stack.down(progress)


def status() -> dict[str, str]:
    rows = stack.status()
    for svc in SERVICES:
        pid = svc.process.pid()
        if pid is None:
            rows[svc.name] = "stopped"
        else:
            rows[svc.name] = f"{'ready' if _ready(svc) else 'not ready'} on {svc.url} (pid {pid})"
    catcher = mail_catcher().pid()
    rows["mail"] = f"running on {HOST}:{smtp_port()} (pid {catcher})" if catcher else "stopped"
    return rows
