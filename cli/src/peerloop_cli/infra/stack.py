"""The local stack as one unit: Kafka and the store, up, down and status.

`up` is idempotent: components already running are only checked for readiness,
and topics that exist are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peerloop_cli.infra import kafka
from peerloop_cli.infra import mongo_java_server as store
from peerloop_cli.infra.paths import topics_file

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongodb_uri: str


def endpoints() -> Endpoints:
    return Endpoints(
        kafka_bootstrap=kafka.KafkaSettings.from_env().bootstrap,
        mongodb_uri=store.StoreSettings.from_env().url,
    )


def is_up() -> bool:
    return (
        kafka.status(kafka.KafkaSettings.from_env())["state"] == "running"
        and store.status(store.StoreSettings.from_env()).running
    )


def _quiet(_: str) -> None:
    return None


def store_is_up() -> bool:
    return store.status(store.StoreSettings.from_env()).running


def store_up() -> str:
    """Only the store (tests that need no Kafka); returns its connection string."""
    s = store.StoreSettings.from_env()
    store.start(s)
    store.wait_ready(s)
    return s.url


def store_down() -> bool:
    return store.stop(store.StoreSettings.from_env())


def up(progress: Progress = _quiet) -> Endpoints:
    k = kafka.KafkaSettings.from_env()
    s = store.StoreSettings.from_env()
    progress("fetching Kafka jars (cached after the first time)")
    kafka.ensure_jars()
    progress("fetching the store's jars (cached after the first time)")
    store.ensure_classpath()
    started = time.monotonic()
    progress(f"starting the store (mongo-java-server) on {s.address}")
    store.start(s)
    progress(f"starting Kafka on {k.bootstrap}")
    kafka.start(k)
    store.wait_ready(s)
    progress(f"store ready ({time.monotonic() - started:.1f}s)")
    kafka.wait_ready(k)
    progress(f"Kafka ready ({time.monotonic() - started:.1f}s)")
    result = kafka.create_topics(k.bootstrap, topics_file())
    progress(f"topics: {len(result.created)} created, {len(result.existing)} already there")
    return Endpoints(kafka_bootstrap=k.bootstrap, mongodb_uri=s.url)


def down(progress: Progress = _quiet) -> None:
    if kafka.stop(kafka.KafkaSettings.from_env()):
        progress("Kafka stopped")
    if store.stop(store.StoreSettings.from_env()):
        progress("store stopped")


def status() -> dict[str, str]:
    k = kafka.status(kafka.KafkaSettings.from_env())
    st = store.status(store.StoreSettings.from_env())
    return {
        "kafka": f"{k['state']} on {k['bootstrap']}" + (f" (pid {k['pid']})" if k["pid"] else ""),
        "store": st.detail,
    }
