"""Which broker: ports, heap, SASL, and where its state lives."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from peerloop_cli.infra.paths import component_dir
from peerloop_cli.infra.process import env_port

KAFKA_VERSION = "4.4.0"
HOST = "127.0.0.1"
NODE_ID = 1


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
    name: str = "kafka"
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
