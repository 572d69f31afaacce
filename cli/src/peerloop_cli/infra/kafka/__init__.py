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

The package, one concern a module: `settings` (ports, SASL, state paths), `jars`
(fetch and cache), `config` (server.properties), `storage` (cluster id, format),
`broker` (the process, a LocalComponent: start, stop, status, readiness wait),
`readiness` (the produce/consume probe) and `admin` (topics).

Files:
    <cache>/kafka-<version>/libs/*.jar   the classpath (+ `.complete` marker)
    <cache>/m2/                          Maven's local repository for that download
    <state>/kafka/server.properties      written on every start from the settings
    <state>/kafka/cluster.id             chosen once, used to format storage
    <state>/kafka/data/                  log.dirs (metadata log + topic partitions)
    <state>/kafka/server.log             broker log, INFO (rolled)
    <state>/kafka/kafka.log              JVM stdout/stderr and broker WARN+
    <state>/kafka/pid, last_pid, started_at

The sync functions use `asyncio.run`; inside a running event loop call the `*_async`
variants.
"""

from peerloop_cli.infra.jvm import java_binary
from peerloop_cli.infra.kafka.admin import TopicsResult, create_topics, create_topics_async
from peerloop_cli.infra.kafka.broker import (
    MAIN_CLASS,
    KafkaBroker,
    KafkaStatus,
    log_tail,
    reset,
    start,
    status,
    stop,
    wait_ready,
    wait_ready_async,
)
from peerloop_cli.infra.kafka.config import server_properties
from peerloop_cli.infra.kafka.jars import ensure_jars, libs_dir, log4j_config_file, pom_file
from peerloop_cli.infra.kafka.readiness import READINESS_TOPIC
from peerloop_cli.infra.kafka.settings import HOST, KAFKA_VERSION, KafkaSettings, SaslBroker

__all__ = [
    "HOST",
    "KAFKA_VERSION",
    "MAIN_CLASS",
    "READINESS_TOPIC",
    "KafkaBroker",
    "KafkaSettings",
    "KafkaStatus",
    "SaslBroker",
    "TopicsResult",
    "create_topics",
    "create_topics_async",
    "ensure_jars",
    "java_binary",
    "libs_dir",
    "log4j_config_file",
    "log_tail",
    "pom_file",
    "reset",
    "server_properties",
    "start",
    "status",
    "stop",
    "wait_ready",
    "wait_ready_async",
]
