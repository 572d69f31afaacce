"""Every published event type, looked up by CloudEvents type or topic."""

from __future__ import annotations

from peerloop_contracts import matching, notifications, profiles
from peerloop_contracts.base import Event

ALL_EVENTS: tuple[type[Event], ...] = profiles.EVENTS + matching.EVENTS + notifications.EVENTS

BY_CE_TYPE: dict[str, type[Event]] = {e.ce_type(): e for e in ALL_EVENTS}
BY_TOPIC: dict[str, type[Event]] = {e.topic(): e for e in ALL_EVENTS}
