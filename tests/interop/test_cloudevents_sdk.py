"""Our events read by the official CloudEvents Python SDK (Kafka binary content mode), and
events written by the SDK read by our envelope and models: the envelope is the standard one."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from jsonschema import Draft202012Validator
from peerloop_contracts.catalogue import ALL_EVENTS, BY_CE_TYPE
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.schema_tools import SCHEMAS_DIR, json_schemas
from peerloop_contracts.schema_tools.examples import example_data, example_of
from peerloop_runtime.outbox import outbox_entry

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("event", [pytest.param(e, id=e.event_name) for e in ALL_EVENTS])
async def test_every_event_decodes_with_the_cloudevents_sdk(event, publish, read_record):
    entry = outbox_entry(example_of(event), traceparent=TRACEPARENT)
    record = await read_record(await publish(entry))

    message = ce_kafka.KafkaMessage(
        headers=dict(record.headers), key=record.key, value=record.value
    )
    decoded = ce_kafka.from_binary_event(message)

    assert decoded.get_specversion() == "1.0"
    assert decoded.get_id() == entry.id
    assert decoded.get_type() == event.ce_type()
    assert decoded.get_source() == event.ce_source()
    assert decoded.get_subject() == example_of(event).subject
    assert decoded.get_datacontenttype() == "application/json"
    assert isinstance(decoded.get_time(), datetime)
    assert decoded.get_time().utcoffset() is not None
    # W3C trace context travels in its own `traceparent` header, not as a `ce_` attribute.
    assert dict(record.headers)["traceparent"] == TRACEPARENT.encode()
    assert decoded.get_extension("partitionkey") == example_of(event).subject
    assert decoded.get_data() == example_data(event)
    schema = json_schemas.load(json_schemas.schema_path(SCHEMAS_DIR, event))
    assert Draft202012Validator(schema).is_valid(decoded.get_data())


async def test_an_event_written_by_the_sdk_is_read_by_our_envelope(publish, read_record, run_id):
    """A subscriber-side tool producing a CloudEvent lands as a valid Peerloop event."""
    data = example_data(SessionCompleted) | {"request_id": f"r-{run_id}"}
    written = CloudEvent(
        attributes={
            "id": f"sdk-{run_id}",
            "source": "peerloop/matching",
            "type": SessionCompleted.ce_type(),
            "subject": f"r-{run_id}",
            "datacontenttype": "application/json",
            "partitionkey": f"r-{run_id}",
        },
        data=data,
    )
    message = ce_kafka.to_binary(written, JSONFormat())
    headers = {k: v.decode() for k, v in message.headers.items()}

    meta = CloudEventMeta.from_headers(headers)
    event = BY_CE_TYPE[meta.type].decode(message.value)

    assert (meta.id, meta.source, meta.subject) == (
        f"sdk-{run_id}",
        "peerloop/matching",
        f"r-{run_id}",
    )
    assert isinstance(event, SessionCompleted)
    assert event.request_id == f"r-{run_id}"
    assert message.key == f"r-{run_id}"
    assert json.loads(message.value) == data
