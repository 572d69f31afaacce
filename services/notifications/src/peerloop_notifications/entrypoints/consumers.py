"""The Kafka consumer's handlers: each event goes to the use case that owns it."""

from __future__ import annotations

from peerloop_contracts.base import Event
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
)
from peerloop_runtime.kafka import BatchHandler, Handler

from peerloop_notifications.application.directory import Directory
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.domain.routing import NOTIFYING_EVENTS


def consumer_handlers(*, directory: Directory, notifier: Notifier) -> dict[type[Event], Handler]:
    handlers: dict[type[Event], Handler] = {
        ProfileRegistered: directory.on_profile,
        ProfileUpdated: directory.on_profile,
        AvailabilityChanged: directory.on_availability,
        ProfileErased: directory.on_erased,
    }
    handlers.update(dict.fromkeys(NOTIFYING_EVENTS, notifier.handle))
    return handlers


def batch_handlers(notifier: Notifier) -> dict[type[Event], BatchHandler]:
    """Notifying events are the hot path (an inbox item per match proposed): their
    notifications of one batch go to the store in one write."""
    return dict.fromkeys(NOTIFYING_EVENTS, notifier.handle_batch)
