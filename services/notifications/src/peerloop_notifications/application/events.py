"""The analytics events about one notification (its only events, hence sequence 1)."""

from __future__ import annotations

from peerloop_contracts.notifications import NotificationDelivered, NotificationFailed
from peerloop_runtime.outbox import OutboxEntry, outbox_entry

from peerloop_notifications.domain.notification import Notification


def _fields(n: Notification) -> dict[str, str]:
    return {
        "notification_id": n.id,
        "person_id": n.person_id,
        "kind": n.kind,
        "channel": n.channel,
        "source_event_id": n.source_event_id,
    }


def delivered(n: Notification, *, attempts: int) -> OutboxEntry:
    return outbox_entry(NotificationDelivered(**_fields(n), attempts=attempts, sequence=1))


def failed(n: Notification, *, attempts: int, reason: str) -> OutboxEntry:
    return outbox_entry(
        NotificationFailed(**_fields(n), attempts=attempts, reason=reason[:500], sequence=1)
    )
