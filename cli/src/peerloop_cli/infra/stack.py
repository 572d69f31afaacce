"""The local stack as one unit: Kafka, the store and Keycloak, up, down and status.

`up` is idempotent: components already running are only checked for readiness,
and topics that exist are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peerloop_cli.infra import kafka, keycloak
from peerloop_cli.infra import mongo_java_server as store
from peerloop_cli.infra.paths import topics_file

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongodb_uri: str
    oidc_issuer: str = ""


def endpoints() -> Endpoints:
    return Endpoints(
        kafka_bootstrap=kafka.KafkaSettings.from_env().bootstrap,
        mongodb_uri=store.StoreSettings.from_env().url,
        oidc_issuer=keycloak.KeycloakSettings.from_env().issuer,
    )


def is_up() -> bool:
    return (
        kafka.status(kafka.KafkaSettings.from_env())["state"] == "running"
        and store.status(store.StoreSettings.from_env()).running
        and keycloak.status(keycloak.KeycloakSettings.from_env())["state"] == "running"
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
    kc = keycloak.KeycloakSettings.from_env()
    progress("preparing Keycloak (downloaded and pre-built the first time)")
    keycloak.ensure_dist(kc.java_home)
    progress(f"starting Keycloak on {kc.base_url}")
    keycloak.start(kc)
    store.wait_ready(s)
    progress(f"store ready ({time.monotonic() - started:.1f}s)")
    kafka.wait_ready(k)
    progress(f"Kafka ready ({time.monotonic() - started:.1f}s)")
    result = kafka.create_topics(k.bootstrap, topics_file())
    progress(f"topics: {len(result.created)} created, {len(result.existing)} already there")
    keycloak.wait_ready(kc)
    progress(f"Keycloak ready, issuer {kc.issuer} ({time.monotonic() - started:.1f}s)")
    return Endpoints(kafka_bootstrap=k.bootstrap, mongodb_uri=s.url, oidc_issuer=kc.issuer)


def down(progress: Progress = _quiet) -> None:
    if keycloak.stop(keycloak.KeycloakSettings.from_env()):
        progress("Keycloak stopped")
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
        "oidc": _keycloak_status(),
    }


def _keycloak_status() -> str:
    kc = keycloak.status(keycloak.KeycloakSettings.from_env())
    return f"{kc['state']}, issuer {kc['issuer']}" + (f" (pid {kc['pid']})" if kc["pid"] else "")
