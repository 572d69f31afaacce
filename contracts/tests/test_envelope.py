import re
from datetime import UTC, datetime

import pytest
from peerloop_contracts.envelope import CloudEventMeta, EnvelopeError


def _meta() -> CloudEventMeta:
    return CloudEventMeta(
        id="e-1",
        source="peerloop/profiles",
        type="io.peerloop.skill-offered.v1",
        subject="p-1",
        time=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )


def test_headers_round_trip_as_bytes_like_kafka_delivers_them():
    headers = _meta().to_headers()
    assert headers == {
        "ce_specversion": "1.0",
        "ce_id": "e-1",
        "ce_source": "peerloop/profiles",
        "ce_type": "io.peerloop.skill-offered.v1",
        "ce_time": "2026-11-28T09:30:00Z",
        "ce_subject": "p-1",
        "content-type": "application/json",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }
    as_kafka = [(k, v.encode()) for k, v in headers.items()]
    assert CloudEventMeta.from_headers(as_kafka) == _meta()


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("ce_id", "missing CloudEvents header(s): ce_id"),
        ("ce_type", "missing CloudEvents header(s): ce_type"),
        ("ce_subject", "missing CloudEvents header(s): ce_subject"),
        ("ce_specversion", "missing CloudEvents header(s): ce_specversion"),
    ],
)
def test_missing_required_header_is_named(drop: str, message: str):
    headers = {k: v for k, v in _meta().to_headers().items() if k != drop}
    with pytest.raises(EnvelopeError, match=re.escape(message)):
        CloudEventMeta.from_headers(headers)


def test_wrong_spec_version_rejected():
    headers = _meta().to_headers() | {"ce_specversion": "0.3"}
    with pytest.raises(EnvelopeError, match="unsupported ce_specversion"):
        CloudEventMeta.from_headers(headers)


def test_bad_time_rejected():
    headers = _meta().to_headers() | {"ce_time": "yesterday"}
    with pytest.raises(EnvelopeError, match="invalid CloudEvents header"):
        CloudEventMeta.from_headers(headers)


def test_each_event_gets_a_unique_id():
    a = CloudEventMeta(source="s", type="t", subject="x")
    b = CloudEventMeta(source="s", type="t", subject="x")
    assert a.id != b.id
