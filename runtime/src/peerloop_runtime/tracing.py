"""OpenTelemetry: one trace per help request across HTTP, Kafka and every service.

The W3C `traceparent` travels in each event's headers (CloudEvents binary mode).
A consumer continues the trace of the event it handles, and the events its
handler causes carry that same trace, so the chain HTTP → Kafka → consumer →
Kafka stays one trace. Exporters are chosen by the standard `OTEL_*` variables
(`OTEL_TRACES_EXPORTER=otlp|console|none`, `OTEL_EXPORTER_OTLP_ENDPOINT`, …).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Link, SpanKind

tracer = trace.get_tracer("peerloop")


def configure_tracing(service: str) -> TracerProvider:
    """Install the SDK for a service process; spans exist even when nothing exports them."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME", f"peerloop-{service}")}
        )
    )
    exporter = _exporter_from_env()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _exporter_from_env() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def current_traceparent() -> str | None:
    """The `traceparent` of the active span, to stamp on the events it causes."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def consuming(topic: str, traceparent: str | None, event_id: str) -> Iterator[None]:
    """A consumer span, child of the span that published the event."""
    parent = propagate.extract({"traceparent": traceparent} if traceparent else {})
    with tracer.start_as_current_span(
        f"{topic} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.message.id": event_id,
        },
    ):
        yield


@contextlib.contextmanager
def resuming(name: str, traceparent: str | None) -> Iterator[None]:
    """Later work on an entity (a sweep, a wake-up) as a span of the trace that created it.

    One trace per help request stays true when a proposal comes hours later from a sweep
    or from someone's new offer; what triggered it, if traced, is linked, not the parent.
    """
    if traceparent is None:
        yield
        return
    cause = trace.get_current_span().get_span_context()
    with tracer.start_as_current_span(
        name,
        context=propagate.extract({"traceparent": traceparent}),
        kind=SpanKind.INTERNAL,
        links=[Link(cause)] if cause.is_valid else None,
    ):
        yield


__all__ = [
    "SimpleSpanProcessor",
    "configure_tracing",
    "consuming",
    "current_traceparent",
    "resuming",
]
