import json
import logging

from peerloop_runtime.logs import (
    JsonFormatter,
    current_event_id,
    current_trace_id,
    trace_id_of,
)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("peerloop.test", logging.INFO, __file__, 1, message, (), None)


def test_json_line_carries_service_event_and_trace_ids():
    formatter = JsonFormatter("matching")
    event = current_event_id.set("e-1")
    trace = current_trace_id.set("0af7651916cd43dd8448eb211c80319c")
    try:
        line = json.loads(formatter.format(_record("proposed r-1")))
    finally:
        current_event_id.reset(event)
        current_trace_id.reset(trace)
    assert line["service"] == "matching"
    assert line["event_id"] == "e-1"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["level"] == "INFO"
    assert line["message"] == "proposed r-1"


def test_outside_a_handler_there_are_no_ids():
    line = json.loads(JsonFormatter("profiles").format(_record("started")))
    assert "event_id" not in line and "trace_id" not in line


def test_trace_id_of_traceparent():
    assert trace_id_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") == (
        "0af7651916cd43dd8448eb211c80319c"
    )
    assert trace_id_of("garbage") is None
    assert trace_id_of(None) is None
