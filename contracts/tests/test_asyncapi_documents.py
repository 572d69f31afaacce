"""The committed AsyncAPI documents match the services and carry the Kafka bindings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import yaml
from peerloop_contracts.catalogue import ALL_EVENTS, BY_TOPIC
from peerloop_contracts.schema_tools import ASYNCAPI_DIR, REGENERATE_COMMAND, asyncapi


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return asyncapi.documents()


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ASYNCAPI_DIR / f"{name}.yaml").read_text())
    return loaded


def test_committed_documents_match_the_services(generated):
    stale = [
        name
        for name, text in generated.items()
        if not (ASYNCAPI_DIR / name).exists() or (ASYNCAPI_DIR / name).read_text() != text
    ]
    assert not stale, f"contracts/asyncapi/{stale} are stale: run `{REGENERATE_COMMAND}`"


def test_generation_does_not_depend_on_hash_seed_or_environment(generated):
    """FastStream keeps publishers in a set; the documents must still be byte-stable."""
    program = (
        "import json; from peerloop_contracts.schema_tools import asyncapi; "
        "print(json.dumps(asyncapi.documents()))"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "4242",
        "PEERLOOP_KAFKA_BOOTSTRAP_SERVERS": "elsewhere:9999",
        "PEERLOOP_CONSUMER_GROUP": "someone-elses-group",
    }
    out = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == generated


@pytest.mark.parametrize("service", asyncapi.SERVICES)
def test_every_published_event_is_a_send_operation_with_bindings(service):
    doc = _load(service)
    assert doc["asyncapi"].startswith("3.")
    sent = {
        _channel(doc, op)["address"]: op
        for op in doc["operations"].values()
        if op["action"] == "send"
    }
    expected = {e.topic() for e in ALL_EVENTS if e.owner == service}
    assert set(sent) == expected
    for topic, operation in sent.items():
        assert operation["bindings"]["kafka"]["clientId"]["enum"] == [f"peerloop-{service}"]
        _assert_channel_and_message(doc, _channel(doc, operation), topic)


@pytest.mark.parametrize("service", asyncapi.SERVICES)
def test_every_consumed_event_names_its_consumer_group(service):
    doc = _load(service)
    shape = asyncapi.service_shape(service)
    expected = {(c.group_id, e.topic()) for c in shape.consumes for e in c.events}
    received = set()
    for operation in doc["operations"].values():
        if operation["action"] == "receive":
            channel = _channel(doc, operation)
            (group,) = operation["bindings"]["kafka"]["groupId"]["enum"]
            received.add((group, channel["address"]))
            _assert_channel_and_message(doc, channel, channel["address"])
    assert received == expected
    assert expected, f"{service} consumes nothing?"


def _channel(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    name = operation["channel"]["$ref"].rsplit("/", 1)[-1]
    channel: dict[str, Any] = doc["channels"][name]
    return channel


def _assert_channel_and_message(doc: dict[str, Any], channel: dict[str, Any], topic: str) -> None:
    kafka = channel["bindings"]["kafka"]
    assert kafka["topic"] == topic
    assert kafka["partitions"] >= 1
    assert kafka["replicas"] >= 1
    (ref,) = channel["messages"].values()
    message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[-1]]
    event = BY_TOPIC[topic]
    assert message["name"] == event.ce_type()
    assert event.aggregate in message["bindings"]["kafka"]["key"]["description"]
    assert message["payload"]["$ref"].endswith(f"/{event.__name__}")
    headers = doc["components"]["schemas"][asyncapi.HEADERS_SCHEMA]
    assert message["headers"]["$ref"].endswith(asyncapi.HEADERS_SCHEMA)
    assert {"ce_id", "ce_source", "ce_type", "ce_subject"} <= set(headers["required"])
