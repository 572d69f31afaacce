"""docker-compose.yml follows the Compose Specification and matches the local run."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import validate_deploy
from peerloop_cli.infra.kafka import KAFKA_VERSION
from peerloop_cli.infra.keycloak import KEYCLOAK_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def compose() -> dict[str, Any]:
    return validate_deploy.load_yaml_file(ROOT / "docker-compose.yml")


def test_compose_file_is_valid(compose: dict[str, Any]) -> None:
    assert validate_deploy.compose_problems(compose) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (_set("services.profiles.helthcheck", {}), "'helthcheck' was unexpected"),
        (_set("services.kafka.ports", [{"targt": 1}]), "services/kafka/ports/0"),
        (
            _set("services.matching.environment.PEERLOOP_KAFKA_BOOTSTRAP", "kafka:9092"),
            "PEERLOOP_KAFKA_BOOTSTRAP is not a setting of peerloop-matching",
        ),
        (
            _set("services.profiles.environment.PEERLOOP_SMTP_HOST", "mailpit"),
            "PEERLOOP_SMTP_HOST is not a setting of peerloop-profiles",
        ),
        (_set("services.notifications.environment.PEERLOOP_HTTP_PORT", "8000"), "must be 8103"),
        (
            _set("services.matching.environment.PEERLOOP_KAFKA_BOOTSTRAP_SERVERS", "broker:9092"),
            "Kafka bootstrap 'broker' is no service",
        ),
        (
            _set("services.profiles.build.dockerfile", "services/matching/Dockerfile"),
            "must build services/profiles/Dockerfile",
        ),
        (_drop("services.matching.depends_on.kafka-topics"), "after the kafka-topics job"),
        (_set("services.kafka-topics.volumes", []), "kafka-topics must mount"),
        (_drop("services.mongodb.healthcheck"), "mongodb needs a healthcheck"),
        (_drop("services.keycloak.healthcheck"), "keycloak needs a healthcheck"),
        (
            _set("services.matching.environment.PEERLOOP_AUTH__ISSUER", "http://idp/realms/x"),
            "token issuer host 'idp' is no service",
        ),
        (
            _set("services.profiles.environment.PEERLOOP_AUTH__AUDIENCE", "account"),
            "PEERLOOP_AUTH__AUDIENCE must be peerloop",
        ),
        (_drop("services.notifications"), "service 'notifications' is missing"),
        (
            _set("services.kafka.environment.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "true"),
            "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND must be false",
        ),
        (
            _set("services.kafka.environment.KAFKA_SUPER_USERS", "User:peerloop-matching"),
            "KAFKA_SUPER_USERS must be User:peerloop-broker",
        ),
        (_drop("services.kafka.environment.KAFKA_AUTHORIZER_CLASS_NAME"), "StandardAuthorizer"),
        (
            _set(
                "services.kafka.environment.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                "INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,HOST:PLAINTEXT",
            ),
            "a PLAINTEXT listener lets anyone in",
        ),
        (
            _set("services.kafka.environment.PEERLOOP_SCRAM_USERS", "peerloop-profiles=x"),
            "PEERLOOP_SCRAM_USERS lacks the principal peerloop-subscriber",
        ),
        (
            _set("services.matching.environment.PEERLOOP_KAFKA_SASL_USERNAME", "peerloop-profiles"),
            "matching: must connect as peerloop-matching",
        ),
        (
            _set("services.profiles.environment.PEERLOOP_KAFKA_SASL_PASSWORD", "guess"),
            "profiles: its Kafka password is not the one of peerloop-profiles",
        ),
        (
            _set(
                "services.notifications.environment.PEERLOOP_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"
            ),
            "PEERLOOP_KAFKA_SECURITY_PROTOCOL must be SASL_PLAINTEXT",
        ),
        (_set("services.kafka-acls.volumes", []), "kafka-acls must mount"),
        (_drop("services.kafka-topics.depends_on.kafka-acls"), "after the kafka-acls job"),
        (
            _set("services.kafka-topics.environment.KAFKA_SASL_USERNAME", "peerloop-broker"),
            "kafka-topics must run as peerloop-topics",
        ),
    ],
)
def test_mistakes_are_reported(
    compose: dict[str, Any], mutate: Callable[[dict[str, Any]], None], complaint: str
) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    problems = validate_deploy.compose_problems(broken)
    assert any(complaint in p for p in problems), problems


def test_kafka_is_the_release_the_local_broker_runs_and_never_auto_creates(
    compose: dict[str, Any],
) -> None:
    for name in ("kafka", "kafka-topics"):
        assert compose["services"][name]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    kafka_env = compose["services"]["kafka"]["environment"]
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_mongodb_is_a_single_node_replica_set_the_services_connect_to(
    compose: dict[str, Any],
) -> None:
    mongodb = compose["services"]["mongodb"]
    assert mongodb["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in " ".join(mongodb["healthcheck"]["test"])
    for name in validate_deploy.SERVICES:
        service = compose["services"][name]
        assert service["environment"]["PEERLOOP_MONGODB_URI"].endswith("replicaSet=rs0")
        assert service["depends_on"]["mongodb"]["condition"] == "service_healthy"


def test_notifications_send_mail_to_the_mail_catcher(compose: dict[str, Any]) -> None:
    env = compose["services"]["notifications"]["environment"]
    assert env["PEERLOOP_SMTP_HOST"] == "mailpit"
    assert env["PEERLOOP_SMTP_PORT"] == "1025"
    assert compose["services"]["mailpit"]["image"].startswith("axllent/mailpit:")


def test_keycloak_is_the_local_release_with_the_committed_demo_realm(
    compose: dict[str, Any],
) -> None:
    keycloak = compose["services"]["keycloak"]
    assert keycloak["image"] == f"quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}"
    assert "--import-realm" in keycloak["command"]
    realm = "./deploy/keycloak/peerloop-realm.json"
    assert (ROOT / realm).is_file()
    assert any(
        str(v).startswith(f"{realm}:/opt/keycloak/data/import/") for v in keycloak["volumes"]
    )
    for name in validate_deploy.SERVICES:
        service = compose["services"][name]
        assert service["environment"]["PEERLOOP_AUTH__ISSUER"] == (
            "http://keycloak:8080/realms/peerloop"
        )
        assert service["depends_on"]["keycloak"]["condition"] == "service_healthy"


def test_the_kafka_scripts_parse_and_with_sasl_runs_as_its_principal(tmp_path: Path) -> None:
    scripts = ROOT / "deploy" / "compose"
    for script in ("kafka-broker.sh", "with-sasl.sh"):
        subprocess.run(["bash", "-n", str(scripts / script)], check=True, timeout=30)
    properties = tmp_path / "client.properties"
    done = subprocess.run(
        ["bash", str(scripts / "with-sasl.sh"), "bash", "-c", 'cat "$KAFKA_CLIENT_PROPERTIES"'],
        env={
            "PATH": os.environ["PATH"],
            "KAFKA_SASL_USERNAME": "peerloop-topics",
            "KAFKA_SASL_PASSWORD": "s3cret",
            "KAFKA_CLIENT_PROPERTIES": str(properties),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "security.protocol=SASL_PLAINTEXT" in done.stdout
    assert "sasl.mechanism=SCRAM-SHA-512" in done.stdout
    assert 'username="peerloop-topics" password="s3cret";' in done.stdout
    assert properties.stat().st_mode & 0o077 == 0  # a password file only its owner reads
