"""The broker's configuration (`server.properties`), written on every start from the settings."""

from __future__ import annotations

from peerloop_cli.infra.kafka.settings import HOST, NODE_ID, KafkaSettings, SaslBroker


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
        # Cheap (a look at segment times); short so a test forcing a tiny retention on
        # its own topics sees it applied within seconds, not minutes.
        "log.retention.check.interval.ms": 5_000,
        "log.cleaner.backoff.ms": 2_000,
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


def scram_arguments(sasl: SaslBroker | None) -> list[str]:
    if sasl is None:
        return []
    users = [(sasl.super_user, sasl.super_password), *sasl.users]
    return [
        arg
        for name, password in users
        for arg in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
    ]
