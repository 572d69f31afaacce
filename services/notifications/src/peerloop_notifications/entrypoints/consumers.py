"""The Kafka consumer: parse, then hand each event to the use case that owns it."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from peerloop_contracts.base import Event
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
)
from peerloop_contracts.runtime.kafka import EventConsumer, Handler, RetryPolicy

from peerloop_notifications.application.directory import Directory
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.domain.routing import NOTIFYING_EVENTS


def build_consumer(
    broker: KafkaBroker,
    group_id: str,
    *,
    directory: Directory,
    notifier: Notifier,
    retry: RetryPolicy,
) -> EventConsumer:
    handlers: dict[type[Event], Handler] = {
        ProfileRegistered: directory.on_profile,
        ProfileUpdated: directory.on_profile,
        AvailabilityChanged: directory.on_availability,
        ProfileErased: directory.on_erased,
    }
    handlers.update(dict.fromkeys(NOTIFYING_EVENTS, notifier.handle))
    # Notifying events are the hot path (an inbox item per match proposed): their
    # notifications of one batch go to the store in one write.
    return EventConsumer(
        broker,
        group_id=group_id,
        handlers=handlers,
        retry=retry,
        batch=True,
        batch_handlers=dict.fromkeys(NOTIFYING_EVENTS, notifier.handle_batch),
    )
