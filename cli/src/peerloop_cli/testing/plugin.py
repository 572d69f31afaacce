"""Session fixtures for the real Kafka broker, MongoDB-compatible store and OIDC provider.

Where they come from, in order:
1. servers named by `KAFKA_BOOTSTRAP_SERVERS` / `MONGODB_URI`;
2. testcontainers (Kafka in KRaft mode, MongoDB as a replica set) when a Docker engine answers;
3. the local processes `peerloop infra up` runs (real Kafka jars, mongo-java-server) on 127.0.0.1.
Topics come from `deploy/topics.yaml` in every case: auto-creation is off.

The identity provider (`identity`, `tokens`): the one `PEERLOOP_OIDC_ISSUER` names
(with `PEERLOOP_OIDC_ADMIN_USER` / `_PASSWORD` for its admin API), else the local
Keycloak that `peerloop infra up` runs, started here when it is not running (and
stopped again at the end of the session).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
from pymongo import AsyncMongoClient

from peerloop_cli.identity import IdentityProvider, Tokens
from peerloop_cli.infra import kafka as local_kafka
from peerloop_cli.infra import keycloak as local_keycloak
from peerloop_cli.infra import stack
from peerloop_cli.infra.paths import topics_file
from peerloop_cli.testing.names import unique_name


def _docker_answers() -> bool:
    if os.environ.get("PEERLOOP_TEST_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(
            ["docker", "info"],  # noqa: S607
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def _containers(need_kafka: bool, need_mongo: bool) -> Iterator[stack.Endpoints]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with contextlib.ExitStack() as stack_:
        kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        mongo = os.environ.get("MONGODB_URI", "")
        if need_kafka:
            container = stack_.enter_context(
                KafkaContainer("apache/kafka:4.1.1")
                .with_kraft()
                .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
            )
            kafka = container.get_bootstrap_server()
        if need_mongo:
            container_m = stack_.enter_context(
                MongoDbContainer("mongo:8.0").with_command("--replSet rs0 --bind_ip_all")
            )
            init = "rs.initiate({_id:'rs0',members:[{_id:0,host:'localhost:27017'}]})"
            container_m.exec(f'mongosh --quiet --eval "{init}"')
            mongo = container_m.get_connection_url() + "/?directConnection=true"
        yield stack.Endpoints(kafka_bootstrap=kafka, mongodb_uri=mongo)


@pytest.fixture(scope="session")
def infra() -> Iterator[stack.Endpoints]:
    yield from _infra()


def _infra() -> Iterator[stack.Endpoints]:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if kafka and mongo:
        local_kafka.create_topics(kafka, topics_file())
        # The issuer too: PEERLOOP_OIDC_ISSUER, else the local Keycloak (`identity` starts it).
        yield stack.Endpoints(
            kafka_bootstrap=kafka, mongodb_uri=mongo, oidc_issuer=IdentityProvider.from_env().issuer
        )
        return
    if _docker_answers():
        with _containers(need_kafka=not kafka, need_mongo=not mongo) as endpoints:
            local_kafka.create_topics(endpoints.kafka_bootstrap, topics_file())
            yield endpoints
        return
    was_up = stack.is_up()
    endpoints = stack.up()
    try:
        yield stack.Endpoints(
            kafka_bootstrap=kafka or endpoints.kafka_bootstrap,
            mongodb_uri=mongo or endpoints.mongodb_uri,
            oidc_issuer=endpoints.oidc_issuer,
        )
    finally:
        if not was_up:
            stack.down()


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: stack.Endpoints) -> str:
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
def mongodb_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """The store alone: tests that need no Kafka start no broker."""
    mongo = os.environ.get("MONGODB_URI")
    if mongo:
        yield mongo
        return
    if _docker_answers():
        infra: stack.Endpoints = request.getfixturevalue("infra")
        yield infra.mongodb_uri
        return
    was_up = stack.store_is_up()
    uri = stack.store_up()
    try:
        yield uri
    finally:
        if not was_up:
            stack.store_down()


@pytest.fixture
async def mongo_db_name(mongodb_uri: str) -> AsyncIterator[str]:
    """A fresh database for one test, dropped afterwards."""
    name = unique_name("t_", 12)
    yield name
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
def run_id() -> str:
    """A short unique id so tests on shared topics only look at their own events."""
    return unique_name()


@pytest.fixture(scope="session")
def identity() -> Iterator[IdentityProvider]:
    """The OpenID Connect provider with the demo realm (issuer, admin credentials)."""
    if os.environ.get("PEERLOOP_OIDC_ISSUER"):
        yield IdentityProvider.from_env()
        return
    settings = local_keycloak.KeycloakSettings.from_env()
    was_running = local_keycloak.status(settings)["state"] != "stopped"
    local_keycloak.start(settings)
    try:
        local_keycloak.wait_ready(settings)
        yield IdentityProvider.from_env()
    finally:
        if not was_running:
            local_keycloak.stop(settings)


@pytest.fixture(scope="session")
async def tokens(identity: IdentityProvider) -> AsyncIterator[Tokens]:
    """Cached access tokens: `await tokens.for_person("p-001")`, service accounts, new people."""
    async with Tokens(identity) as tokens_:
        yield tokens_
