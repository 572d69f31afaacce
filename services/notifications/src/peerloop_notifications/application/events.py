"""The analytics events about one notification (its only events, hence sequence 1)."""

from __future__ import annotations

from peerloop_contracts.notifications import NotificationDelivered, NotificationFailed
from peerloop_contracts.outbox import OutboxEntry, outbox_entry
from peerloop_contracts.runtime.mongo import Document


def _fields(doc: Document) -> dict[str, str]:
    return {
        "notification_id": doc["_id"],
        "person_id": doc["person_id"],
        "kind": doc["kind"],
        "channel": doc["channel"],
        "source_event_id": doc["source_event_id"],
    }


def delivered(doc: Document, *, attempts: int) -> OutboxEntry:
    return outbox_entry(NotificationDelivered(**_fields(doc), attempts=attempts, sequence=1))


def failed(doc: Document, *, attempts: int, reason: str) -> OutboxEntry:
    return outbox_entry(
        NotificationFailed(**_fields(doc), attempts=attempts, reason=reason[:500], sequence=1)
    )
