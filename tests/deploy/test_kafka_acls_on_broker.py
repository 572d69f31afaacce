"""The generated ACLs on a real broker with SASL/SCRAM and the ACL authorizer.

A second local broker (the project's own Kafka component, SASL options on, small
heap) gets the SCRAM users of every principal; the generated ACL script runs
against it with Kafka's own `kafka-acls` tool; then each principal may do what
the table says and is refused the rest.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import kafka_acls
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
)
from peerloop_cli.infra import kafka as local_kafka
from peerloop_cli.infra.process import free_port, port_open
from peerloop_cli.testing.kafka_tools import kafka_bin

pytestmark = pytest.mark.integration

BROKER = kafka_acls.BROKER
PROFILES_TOPIC = "peerloop.skill-offered.v1"
MATCHING_TOPIC = "peerloop.help-requested.v1"


def _password() -> str:
    return secrets.token_hex(12)  # letters and digits: safe in JAAS and --add-scram


PASSWORDS = {name: _password() for name in [BROKER, *kafka_acls.principals()]}


def _sasl(user: str) -> dict[str, Any]:
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": user,
        "sasl_plain_password": PASSWORDS[user],
    }


@pytest.fixture(scope="module")
def secured() -> Iterator[local_kafka.KafkaSettings]:
    settings = local_kafka.KafkaSettings(
        port=free_port(),
        controller_port=free_port(),
        heap="-Xms128m -Xmx256m",
        name="kafka-acl-test",
        sasl=local_kafka.SaslBroker(
            super_user=BROKER,
            super_password=PASSWORDS[BROKER],
            users=tuple((n, p) for n, p in PASSWORDS.items() if n != BROKER),
        ),
    )
    local_kafka.reset(settings)  # fresh users and ACLs: credentials are set at format time
    local_kafka.start(settings)
    try:
        yield settings
    finally:
        local_kafka.reset(settings)
        shutil.rmtree(settings.dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def granted(secured: local_kafka.KafkaSettings, tmp_path_factory: Any) -> str:
    """The broker with two topics and the generated ACLs applied, as the super user."""
    bootstrap = secured.bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **_sasl(BROKER))
    for _ in range(120):  # the broker needs a few seconds on a shared machine
        if port_open(local_kafka.HOST, secured.port):
            try:
                await admin.start()
                break
            except Exception:  # not up yet; anything else fails below
                await asyncio.sleep(1)
        else:
            await asyncio.sleep(1)
    else:
        pytest.fail(f"the SASL broker did not start:\n{local_kafka.log_tail(secured)}")
    try:
        await admin.create_topics(
            [NewTopic(t, 1, 1) for t in (PROFILES_TOPIC, MATCHING_TOPIC)], timeout_ms=30_000
        )
    finally:
        await admin.close()

    work = tmp_path_factory.mktemp("acls")
    properties = work / "client.properties"
    properties.write_text(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{BROKER}" password="{PASSWORDS[BROKER]}";\n'
    )
    # Off the event loop: the script runs one JVM per grant for a while.
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", str(kafka_acls.SCRIPT_FILE)],
        env={
            **os.environ,
            "KAFKA_BIN": str(kafka_bin(work, ["kafka-acls.sh"])),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_CLIENT_PROPERTIES": str(properties),
        },
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return bootstrap


async def _publish(
    bootstrap: str, user: str, topic: str, value: bytes, *, idempotent: bool = True
) -> None:
    # By default the services' producer settings: acks=all, idempotent.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, **_sasl(user)
    )
    try:
        await producer.start()
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"k"), timeout=30)
    finally:
        await producer.stop()


async def _read(bootstrap: str, user: str, topic: str, group: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        **_sasl(user),
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=10_000)
        return [r.value for records in batch.values() for r in records]
    finally:
        await consumer.stop()


async def test_a_service_publishes_its_own_events_and_is_refused_another_services(
    granted: str,
) -> None:
    await _publish(granted, "peerloop-profiles", PROFILES_TOPIC, b"offered")
    with pytest.raises(TopicAuthorizationFailedError):
        await _publish(granted, "peerloop-profiles", MATCHING_TOPIC, b"forged")
    await _publish(granted, "peerloop-matching", MATCHING_TOPIC, b"requested")
    with pytest.raises(TopicAuthorizationFailedError):
        await _publish(granted, "peerloop-matching", PROFILES_TOPIC, b"forged")


async def test_the_subscriber_reads_but_cannot_write(granted: str) -> None:
    await _publish(granted, "peerloop-profiles", PROFILES_TOPIC, b"for-subscribers")
    got = await _read(granted, kafka_acls.SUBSCRIBER, PROFILES_TOPIC, "peerloop-subscriber.test")
    assert b"for-subscribers" in got
    # Refused the producer id an idempotent producer needs (no WRITE anywhere) ...
    with pytest.raises(ClusterAuthorizationFailedError):
        await _publish(granted, kafka_acls.SUBSCRIBER, PROFILES_TOPIC, b"forged")
    # ... and the topic itself.
    with pytest.raises(TopicAuthorizationFailedError):
        await _publish(granted, kafka_acls.SUBSCRIBER, PROFILES_TOPIC, b"forged", idempotent=False)
    # Only its own consumer groups.
    with pytest.raises(GroupAuthorizationFailedError):
        await _read(granted, kafka_acls.SUBSCRIBER, PROFILES_TOPIC, "peerloop-matching.stolen")
