"""Outbox entries: an event ready to publish, stored inside its aggregate's document.

A state change and its entries are written in one single-document update; the
relay publishes them and then removes them by id. The entry's `id` is the
CloudEvents `ce_id`, so a re-publish after a crash carries the same id and
consumers dedupe it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta, utc_now
from peerloop_contracts.states import EntityState
from pydantic import BaseModel, ConfigDict


class OutboxEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    topic: str
    key: str
    headers: dict[str, str]
    value: str | None
    """The event's JSON; None for a tombstone (a compacted state topic forgets the key)."""
    created_at: datetime

    def to_document(self) -> dict[str, Any]:
        return self.model_dump()


def outbox_entry(event: Event, *, traceparent: str | None = None) -> OutboxEntry:
    """`traceparent` defaults to the active span's: the event joins the trace that caused it."""
    if traceparent is None:
        traceparent = _active_traceparent()
    meta = CloudEventMeta(
        source=event.ce_source(),
        type=event.ce_type(),
        subject=event.subject,
        traceparent=traceparent,
    )
    return OutboxEntry(
        id=meta.id,
        topic=event.topic(),
        key=event.subject,
        headers=meta.to_headers(),
        value=event.to_json().decode(),
        created_at=utc_now(),
    )


def tombstone_entry(
    state: type[EntityState], key: str, *, traceparent: str | None = None
) -> OutboxEntry:
    """A null value for `key` on `state`'s compacted topic: after compaction, nothing of it.

    The CloudEvents headers still say the type and subject, so a subscriber routing by
    `ce_type` knows which state was erased. `content-type` stays: the producer would
    otherwise send it empty, which CloudEvents readers refuse (an event may name a
    content type and carry no data).
    """
    if traceparent is None:
        traceparent = _active_traceparent()
    meta = CloudEventMeta(
        source=state.ce_source(), type=state.ce_type(), subject=key, traceparent=traceparent
    )
    return OutboxEntry(
        id=meta.id,
        topic=state.topic(),
        key=key,
        headers=meta.to_headers(),
        value=None,
        created_at=utc_now(),
    )


def _active_traceparent() -> str | None:
    try:
        from opentelemetry import propagate
    except ImportError:  # the wire models alone do not need OpenTelemetry
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
