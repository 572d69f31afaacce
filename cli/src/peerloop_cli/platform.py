"""The four services, the web app and the mail catcher as separate local processes.

Each runs from the workspace's console scripts with `PEERLOOP_*` settings that
point at Kafka and the store. A `Deployment` names the processes, ports,
databases and consumer groups, so `peerloop up` and an end-to-end test session
can run side by side without sharing state.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import component_dir
from peerloop_cli.infra.process import (
    InfraError,
    ManagedProcess,
    ensure_port_free,
    port_open,
    wait_until,
)
from peerloop_cli.realm import AUDIENCE, CHAT_DELEGATION_SCOPE

Progress = Callable[[str], None]
HOST = "127.0.0.1"
SERVICE_NAMES = ("profiles", "matching", "notifications", "insights")
WEB = "web"
"""The web app for people: a backend-for-frontend over the services' public APIs. It
runs when the deployment names a port for it (`peerloop up` does; e2e tests need not)."""
CHAT = "chat"
"""The chat app (Slack): a backend-for-frontend over the services' public APIs that also
consumes matching's events. It runs when the deployment names a port for it (`peerloop up`
does, on PEERLOOP_CHAT_PORT; e2e tests start it where they need it)."""
DEFAULT_PORTS = {"profiles": 8101, "matching": 8102, "notifications": 8103, "insights": 8105}
DEFAULT_WEB_PORT = 8100
DEFAULT_CHAT_PORT = 8104
DELEGATING_SERVICES = ("matching",)
"""Services that let the chat service account act for a linked person (auth.delegation)."""


def _quiet(_: str) -> None:
    return None


def _env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Deployment:
    prefix: str = "svc"
    ports: dict[str, int] = field(
        default_factory=lambda: {
            name: _env_port(f"PEERLOOP_{name.upper()}_PORT", port)
            for name, port in DEFAULT_PORTS.items()
        }
    )
    smtp_port: int = field(default_factory=lambda: _env_port("PEERLOOP_SMTP_PORT", 1025))
    web_port: int | None = field(
        default_factory=lambda: _env_port("PEERLOOP_WEB_PORT", DEFAULT_WEB_PORT)
    )
    chat_port: int | None = None
    """The chat app's port; `peerloop up` sets it (`local()`), other deployments opt in."""
    database_prefix: str = "peerloop_"
    group_prefix: str = "peerloop-"
    extra_env: dict[str, str] = field(default_factory=dict)
    replica_ports: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """HTTP ports of further replicas of a service (the first one uses `ports`). They share
    its database and consumer group, as replicas in a cluster do."""

    def replicas(self, service: str) -> range:
        return range(1 + len(self.replica_ports.get(service, ())))

    def port(self, service: str, replica: int = 0) -> int:
        if service == WEB:
            if self.web_port is None:
                raise InfraError("this deployment runs no web app")
            return self.web_port
        if service == CHAT:
            if self.chat_port is None:
                raise InfraError("this deployment runs no chat app")
            return self.chat_port
        return self.ports[service] if replica == 0 else self.replica_ports[service][replica - 1]

    def url(self, service: str, replica: int = 0) -> str:
        return f"http://{HOST}:{self.port(service, replica)}"

    def process(self, service: str, replica: int = 0) -> ManagedProcess:
        if service not in (*SERVICE_NAMES, WEB, CHAT):
            known = (*SERVICE_NAMES, WEB, CHAT)
            raise InfraError(f"unknown service {service!r}; choose one of {known}")
        suffix = f"-{replica + 1}" if replica else ""
        return ManagedProcess(f"{self.prefix}-{service}{suffix}")

    def mail_catcher(self) -> ManagedProcess:
        return ManagedProcess(f"{self.prefix}-mail")

    @property
    def mail_dir(self) -> Path:
        return component_dir(f"{self.prefix}-mail") / "messages"

    def env(self, service: str, endpoints: stack.Endpoints, replica: int = 0) -> dict[str, str]:
        return {
            "PEERLOOP_KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "PEERLOOP_MONGODB_URI": endpoints.mongodb_uri,
            "PEERLOOP_DATABASE": f"{self.database_prefix}{service}",
            "PEERLOOP_CONSUMER_GROUP": f"{self.group_prefix}{service}",
            "PEERLOOP_HTTP_HOST": HOST,
            "PEERLOOP_HTTP_PORT": str(self.port(service, replica)),
            "PEERLOOP_SMTP_HOST": HOST,
            "PEERLOOP_SMTP_PORT": str(self.smtp_port),
            "PEERLOOP_AUTH__ISSUER": endpoints.oidc_issuer,
            "PEERLOOP_AUTH__AUDIENCE": AUDIENCE,
            # A local platform: built-in development secrets (the webhook key) are accepted.
            "PEERLOOP_DEV_MODE": "true",
            **(
                {"PEERLOOP_AUTH__DELEGATION_SCOPE": CHAT_DELEGATION_SCOPE}
                if service in DELEGATING_SERVICES
                else {}
            ),
            **self.extra_env,
        }

    def chat_env(self, endpoints: stack.Endpoints) -> dict[str, str]:
        """The shared settings plus where the services are; Slack's API stays Slack's
        unless PEERLOOP_SLACK_API_URL (in `extra_env` or the environment) says otherwise."""
        env = {
            **self.env(CHAT, endpoints),
            "PEERLOOP_MATCHING_URL": self.url("matching"),
            "PEERLOOP_PROFILES_URL": self.url("profiles"),
        }
        for name in ("PEERLOOP_SLACK_API_URL", "PEERLOOP_SLACK_SIGNING_SECRET"):
            if name in os.environ and name not in self.extra_env:
                env[name] = os.environ[name]
        return env

    def web_env(self, endpoints: stack.Endpoints) -> dict[str, str]:
        return {
            "PEERLOOP_WEB_HTTP_HOST": HOST,
            "PEERLOOP_WEB_HTTP_PORT": str(self.web_port),
            "PEERLOOP_WEB_PROFILES_URL": self.url("profiles"),
            "PEERLOOP_WEB_MATCHING_URL": self.url("matching"),
            "PEERLOOP_WEB_NOTIFICATIONS_URL": self.url("notifications"),
            "PEERLOOP_WEB_INSIGHTS_URL": self.url("insights"),
            "PEERLOOP_WEB_OIDC_ISSUER": endpoints.oidc_issuer,
            **self.extra_env,
        }

    # ------------------------------------------------------------------ lifecycle

    def start_mail_catcher(self, progress: Progress = _quiet) -> None:
        catcher = self.mail_catcher()
        if catcher.is_running():
            return
        ensure_port_free(HOST, self.smtp_port, "the mail catcher")
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        catcher.start(
            [
                sys.executable,
                "-m",
                "peerloop_notifications.devtools.mail_catcher",
                "--host",
                HOST,
                "--port",
                str(self.smtp_port),
                "--dir",
                str(self.mail_dir),
            ]
        )
        _wait(lambda: port_open(HOST, self.smtp_port), catcher, 20, "the mail catcher")
        progress(f"mail catcher on {HOST}:{self.smtp_port} → {self.mail_dir}")

    def start_service(
        self, service: str, endpoints: stack.Endpoints, progress: Progress = _quiet
    ) -> None:
        """Start every replica of `service` that is not running."""
        for replica in self.replicas(service):
            proc = self.process(service, replica)
            if proc.is_running():
                continue
            port = self.port(service, replica)
            with contextlib.suppress(InfraError):
                # A process killed a moment ago may still hold its socket briefly.
                wait_until(partial(_port_closed, port), timeout=10, what=f"port {port}")
            ensure_port_free(HOST, port, f"the {service} service")
            proc.start([_bin(f"peerloop-{service}")], env=self.env(service, endpoints, replica))
            progress(f"starting {service} on {self.url(service, replica)}")

    def start_web(self, endpoints: stack.Endpoints, progress: Progress = _quiet) -> None:
        proc = self.process(WEB)
        if self.web_port is None or proc.is_running():
            return
        ensure_port_free(HOST, self.web_port, "the web app")
        proc.start([_bin("peerloop-web")], env=self.web_env(endpoints))
        progress(f"starting the web app on {self.url(WEB)}")

    def start_chat(self, endpoints: stack.Endpoints, progress: Progress = _quiet) -> None:
        proc = self.process(CHAT)
        if self.chat_port is None or proc.is_running():
            return
        ensure_port_free(HOST, self.chat_port, "the chat app")
        proc.start([_bin("peerloop-chat")], env=self.chat_env(endpoints))
        progress(f"starting the chat app on {self.url(CHAT)}")

    def ready(self, service: str, replica: int = 0) -> bool:
        try:
            url = f"{self.url(service, replica)}/readyz"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, service: str, timeout: float = 120.0) -> None:
        for replica in self.replicas(service):
            _wait(
                partial(self.ready, service, replica),
                self.process(service, replica),
                timeout,
                f"{service} to be ready ({self.url(service, replica)}/readyz)",
            )

    def up(self, endpoints: stack.Endpoints, progress: Progress = _quiet) -> None:
        self.start_mail_catcher(progress)
        for service in SERVICE_NAMES:
            self.start_service(service, endpoints, progress)
        for service in SERVICE_NAMES:
            self.wait_ready(service)
            progress(f"{service} ready")
        if self.web_port is not None:
            self.start_web(endpoints, progress)
            self.wait_ready(WEB, timeout=30)
            progress(f"web app ready on {self.url(WEB)}")
        if self.chat_port is not None:
            self.start_chat(endpoints, progress)
            self.wait_ready(CHAT, timeout=60)
            progress(f"chat app ready on {self.url(CHAT)} (Slack request URLs under /slack/)")

    def down(self, progress: Progress = _quiet) -> None:
        if self.process(CHAT).stop():
            progress("chat app stopped")
        if self.process(WEB).stop():
            progress("web app stopped")
        for service in reversed(SERVICE_NAMES):
            for replica in self.replicas(service):
                if self.process(service, replica).stop():
                    progress(
                        f"{service} stopped" + (f" (replica {replica + 1})" if replica else "")
                    )
        if self.mail_catcher().stop():
            progress("mail catcher stopped")

    def status(self) -> dict[str, str]:
        rows: dict[str, str] = {}
        for service in SERVICE_NAMES:
            pid = self.process(service).pid()
            if pid is None:
                rows[service] = "stopped"
            else:
                state = "ready" if self.ready(service) else "not ready"
                rows[service] = f"{state} on {self.url(service)} (pid {pid})"
        web = self.process(WEB).pid()
        if web is not None:
            state = "ready" if self.ready(WEB) else "not ready"
            rows[WEB] = f"{state} on {self.url(WEB)} (pid {web})"
        elif self.web_port is not None:
            rows[WEB] = "stopped"
        chat = self.process(CHAT).pid()
        if chat is not None:
            state = "ready" if self.ready(CHAT) else "not ready"
            rows[CHAT] = f"{state} on {self.url(CHAT)} (pid {chat})"
        elif self.chat_port is not None:
            rows[CHAT] = "stopped"
        catcher = self.mail_catcher().pid()
        rows["mail"] = (
            f"running on {HOST}:{self.smtp_port} (pid {catcher})" if catcher else "stopped"
        )
        return rows


def _port_closed(port: int) -> bool:
    return not port_open(HOST, port)


def _bin(name: str) -> str:
    """A console script of this virtual environment."""
    return str(Path(sys.executable).with_name(name))


def _wait(check: Callable[[], bool], proc: ManagedProcess, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not proc.is_running():
            raise InfraError(f"{what}: the process exited.\n{proc.log_tail(40)}")
        time.sleep(0.3)
    raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}.\n{proc.log_tail(40)}")


def local() -> Deployment:
    """What `peerloop up` runs: every service, the web app and the chat app."""
    return Deployment(chat_port=_env_port("PEERLOOP_CHAT_PORT", DEFAULT_CHAT_PORT))


def up(progress: Progress) -> Deployment:
    deployment = local()
    endpoints = stack.up(progress)
    deployment.up(endpoints, progress)
    return deployment


def down(progress: Progress) -> None:
    local().down(progress)
    stack.down(progress)


def status() -> dict[str, str]:
    return {**stack.status(), **local().status()}
