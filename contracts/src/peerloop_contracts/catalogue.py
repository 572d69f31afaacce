"""Every published event type, looked up by CloudEvents type, topic or owning service."""

from __future__ import annotations

from peerloop_contracts import matching, notifications, profiles, programmes, states
from peerloop_contracts.base import Event

ALL_EVENTS: tuple[type[Event], ...] = (
    profiles.EVENTS + matching.EVENTS + programmes.EVENTS + notifications.EVENTS + states.STATES
)
"""Change events, then the entity state records of the compacted state topics."""

BY_CE_TYPE: dict[str, type[Event]] = {e.ce_type(): e for e in ALL_EVENTS}
BY_TOPIC: dict[str, type[Event]] = {e.topic(): e for e in ALL_EVENTS}

SERVICES: tuple[str, ...] = (profiles.OWNER, matching.OWNER, notifications.OWNER)
"""The services that publish events, each the `owner` of its module's event types."""

OWNER_BY_TOPIC: dict[str, str] = {e.topic(): e.owner for e in ALL_EVENTS}


STATE_TOPICS: tuple[str, ...] = tuple(s.topic() for s in states.STATES)
"""The compacted topics: one record per key, the latest state; a null value is a tombstone."""


def owned_by(service: str) -> tuple[type[Event], ...]:
    """The event types `service` publishes, in catalogue order."""
    return tuple(e for e in ALL_EVENTS if e.owner == service)
