"""Trace context crosses Kafka: a consumer continues the publisher's trace, and
the events its handler causes carry the same trace id."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillAcquired, SkillOffered
from peerloop_runtime.kafka import EventConsumer, make_broker, publish_entry
from peerloop_runtime.outbox import OutboxEntry, outbox_entry

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _provider() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


async def test_consumer_span_continues_the_trace_and_caused_events_carry_it(
    kafka_bootstrap: str, run_id: str
) -> None:
    trace_id = (run_id * 4)[:32]  # new per run: the topic's history holds earlier runs' traces
    incoming = f"00-{trace_id}-00f067aa0ba902b7-01"
    caused: list[OutboxEntry] = []
    done = asyncio.Event()

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if run_id not in event.person_id:
            return
        # What a handler does: write the events it causes (here only built, not stored).
        caused.append(
            outbox_entry(
                SkillAcquired(
                    person_id=event.person_id,
                    skill_id="python",
                    skill_name="Python",
                    level=2,
                    teacher_id="t",
                    session_id="s",
                    acquired_at="2026-11-28T10:00:00Z",  # type: ignore[arg-type]
                    sequence=2,
                )
            )
        )
        done.set()

    await start_groups_at_end(kafka_bootstrap, [f"test-{run_id}"])
    broker: Any = make_broker(kafka_bootstrap, client_id="test-tracing")
    EventConsumer(broker, group_id=f"test-{run_id}", handlers={SkillOffered: handle})
    await broker.start()
    try:
        offered = SkillOffered(
            person_id=f"p-{run_id}",
            skill_id="python",
            skill_name="Python",
            level=4,
            weekly_capacity=1,
            sequence=1,
        )
        await publish_entry(broker, outbox_entry(offered, traceparent=incoming))
        await asyncio.wait_for(done.wait(), timeout=90)
    finally:
        await broker.stop()

    [entry] = caused
    assert entry.headers["traceparent"].split("-")[1] == trace_id
    spans = [
        s
        for s in EXPORTER.get_finished_spans()
        if s.kind is SpanKind.CONSUMER and s.context.trace_id == int(trace_id, 16)
    ]
    assert len(spans) == 1
    span = spans[0]
    assert span.parent is not None and span.parent.span_id == int("00f067aa0ba902b7", 16)
    assert span.attributes is not None
    assert span.attributes["messaging.destination.name"] == "peerloop.skill-offered.v1"
    assert entry.headers["traceparent"].split("-")[2] == format(span.context.span_id, "016x")
