"""Events published by the notifications service. Key and `ce_subject`: `notification_id`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from peerloop_contracts.base import Event
from peerloop_contracts.common import STORABLE, TEXT, EntityId, Label, PersonId, at_most

OWNER = "notifications"
"""Publishes every event of this module, and no other service may (see `Event.owner`)."""

Channel = Literal["inbox", "email", "webhook"]


class _NotificationEvent(Event):
    owner: ClassVar[str] = OWNER
    aggregate: ClassVar[str] = "notification_id"

    notification_id: EntityId
    person_id: PersonId
    kind: Label = Field(examples=["match-proposed"])
    channel: Channel
    source_event_id: EntityId = Field(description="ce_id of the event that caused it")


class NotificationDelivered(_NotificationEvent):
    """A notification reached a person on one channel. For analytics.

    Emitted by notifications. Key: `notification_id`.
    Example: `{"notification_id": "email:p-17:3f2a…:match-proposed", "person_id": "p-17",
    "kind": "match-proposed", "channel": "email", "source_event_id": "3f2a…",
    "attempts": 1, "sequence": 1}`
    """

    event_name: ClassVar[str] = "notification-delivered"

    attempts: Annotated[int, STORABLE] = Field(ge=1)


class NotificationFailed(_NotificationEvent):
    """A notification could not be delivered on a channel after all retries.

    Emitted by notifications. Key: `notification_id`.
    Example: `{"notification_id": "webhook:p-17:3f2a…:match-proposed", "person_id": "p-17",
    "kind": "match-proposed", "channel": "webhook", "source_event_id": "3f2a…",
    "attempts": 6, "reason": "HTTP 503 from the webhook", "sequence": 2}`
    """

    event_name: ClassVar[str] = "notification-failed"

    attempts: Annotated[int, STORABLE] = Field(ge=1)
    reason: Annotated[str, at_most(500), TEXT]


EVENTS: tuple[type[Event], ...] = (NotificationDelivered, NotificationFailed)
