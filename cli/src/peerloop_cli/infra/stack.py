"""The local stack as one unit: Kafka, the store and Keycloak, up, down and status.

`up` is idempotent: components already running are only checked for readiness,
and topics that exist are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peerloop_cli.infra import ferretdb, kafka, keycloak
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
        mongodb_uri=ferretdb.FerretSettings.from_env().url,
        oidc_issuer=keycloak.KeycloakSettings.from_env().issuer,
    )


def is_up() -> bool:
    return (
        kafka.status(kafka.KafkaSettings.from_env())["state"] == "running"
        and ferretdb.status(ferretdb.FerretSettings.from_env()).running
        and keycloak.status(keycloak.KeycloakSettings.from_env())["state"] == "running"
    )


def _quiet(_: str) -> None:
    return None


def up(progress: Progress = _quiet) -> Endpoints:
    k = kafka.KafkaSettings.from_env()
    f = ferretdb.FerretSettings.from_env()
    progress("fetching Kafka jars (cached after the first time)")
    kafka.ensure_jars()
    progress("building FerretDB (cached after the first time)")
    ferretdb.ensure_binary()
    started = time.monotonic()
    progress(f"starting FerretDB on {f.address}")
    ferretdb.start(f)
    progress(f"starting Kafka on {k.bootstrap}")
    kafka.start(k)
    kc = keycloak.KeycloakSettings.from_env()
    progress("preparing Keycloak (downloaded and pre-built the first time)")
    keycloak.ensure_dist(kc.java_home)
    progress(f"starting Keycloak on {kc.base_url}")
    keycloak.start(kc)
    ferretdb.wait_ready(f)
    progress(f"FerretDB ready ({time.monotonic() - started:.1f}s)")
    kafka.wait_ready(k)
    progress(f"Kafka ready ({time.monotonic() - started:.1f}s)")
    result = kafka.create_topics(k.bootstrap, topics_file())
    progress(f"topics: {len(result.created)} created, {len(result.existing)} already there")
    keycloak.wait_ready(kc)
    progress(f"Keycloak ready, issuer {kc.issuer} ({time.monotonic() - started:.1f}s)")
    return Endpoints(kafka_bootstrap=k.bootstrap, mongodb_uri=f.url, oidc_issuer=kc.issuer)


def down(progress: Progress = _quiet) -> None:
    if keycloak.stop(keycloak.KeycloakSettings.from_env()):
        progress("Keycloak stopped")
    if kafka.stop(kafka.KafkaSettings.from_env()):
        progress("Kafka stopped")
    if ferretdb.stop(ferretdb.FerretSettings.from_env()):
        progress("FerretDB stopped")


def status() -> dict[str, str]:
    k = kafka.status(kafka.KafkaSettings.from_env())
    f = ferretdb.status(ferretdb.FerretSettings.from_env())
    return {
        "kafka": f"{k['state']} on {k['bootstrap']}" + (f" (pid {k['pid']})" if k["pid"] else ""),
        "store": f.detail,
        "oidc": _keycloak_status(),
    }


def _keycloak_status() -> str:
    kc = keycloak.status(keycloak.KeycloakSettings.from_env())
    return f"{kc['state']}, issuer {kc['issuer']}" + (f" (pid {kc['pid']})" if kc["pid"] else "")
