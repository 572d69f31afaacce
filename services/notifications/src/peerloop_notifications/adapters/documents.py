"""How a notification is written as a store document, and read back (both stores use it).

Changing a field name here changes the stored shape: the Mongo queries in
`notification_store` name the same fields.
"""

from __future__ import annotations

from typing import Any

from peerloop_runtime.mongo import Document
from peerloop_runtime.outbox import OutboxEntry

from peerloop_notifications.domain.delivery import Delivery, DeliveryState, Lease
from peerloop_notifications.domain.notification import Notification

FINISHED_AT = {
    DeliveryState.SENT: "sent_at",
    DeliveryState.FAILED: "failed_at",
    DeliveryState.SKIPPED: "skipped_at",
}


def delivery_fields(delivery: Delivery) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_error": delivery.last_error,
    }
    if delivery.lease is not None:
        fields["lease"] = {"owner": delivery.lease.owner, "until": delivery.lease.until}
    finished = FINISHED_AT.get(delivery.state)
    if finished is not None and delivery.finished_at is not None:
        fields[finished] = delivery.finished_at
    return fields


def to_document(n: Notification) -> Document:
    doc: dict[str, Any] = {
        "_id": n.id,
        "person_id": n.person_id,
        "kind": n.kind,
        "channel": n.channel,
        "source_event_id": n.source_event_id,
        "source_type": n.source_type,
        "subject": n.subject,
        "body": n.body,
        "created_at": n.created_at,
    }
    if n.request_id is not None:
        doc["request_id"] = n.request_id
    if n.links:
        doc["links"] = dict(n.links)
    if n.mentions:
        doc["mentions"] = [{"person": p, "texts": list(t)} for p, t in n.mentions.items()]
    if n.is_inbox:
        doc |= {"read": n.read, "visible_at": n.visible_at}
        if n.delivered_at is not None:
            doc["delivered_at"] = n.delivered_at
    else:
        doc["digest"] = n.digest
    if n.calendar is not None:
        doc["calendar"] = n.calendar
    if n.delivery is not None:
        doc |= delivery_fields(n.delivery)
    if n.outbox:
        doc["outbox"] = [entry.to_document() for entry in n.outbox]
    return doc


def _delivery(doc: Document) -> Delivery | None:
    if "state" not in doc:
        return None
    state = DeliveryState(doc["state"])
    lease = doc.get("lease") or {}
    finished = FINISHED_AT.get(state)
    return Delivery(
        state=state,
        attempts=int(doc.get("attempts", 0)),
        next_attempt_at=doc.get("next_attempt_at"),
        lease=Lease(lease["owner"], lease["until"]) if "owner" in lease else None,
        last_error=doc.get("last_error"),
        finished_at=doc.get(finished) if finished else None,
    )


def from_document(doc: Document) -> Notification:
    return Notification(
        id=doc["_id"],
        person_id=doc["person_id"],
        kind=doc["kind"],
        channel=doc["channel"],
        source_event_id=doc["source_event_id"],
        source_type=doc.get("source_type", ""),
        subject=doc["subject"],
        body=doc["body"],
        created_at=doc["created_at"],
        request_id=doc.get("request_id"),
        links=doc.get("links", {}),
        mentions={m["person"]: tuple(m["texts"]) for m in doc.get("mentions", [])},
        visible_at=doc.get("visible_at"),
        read=bool(doc.get("read", False)),
        delivered_at=doc.get("delivered_at"),
        digest=bool(doc.get("digest", False)),
        delivery=_delivery(doc),
        outbox=tuple(OutboxEntry.model_validate(e) for e in doc.get("outbox", [])),
        calendar=doc.get("calendar"),
    )
