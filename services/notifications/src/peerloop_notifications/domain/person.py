"""The service's own copy of a person: name, e-mail, time zone and their preferences."""

from __future__ import annotations

from dataclasses import dataclass

from peerloop_notifications.domain.preferences import Preferences

DEFAULT_TIME_ZONE = "UTC"


@dataclass(frozen=True)
class Person:
    person_id: str
    display_name: str | None
    email: str | None
    time_zone: str
    preferences: Preferences
    preferences_version: int
    erased: bool

    @property
    def registered(self) -> bool:
        return not self.erased and self.email is not None
