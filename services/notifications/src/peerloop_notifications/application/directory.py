"""Keeping the service's own copy of people in step with profile events."""

from __future__ import annotations

from dataclasses import dataclass

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
)

from peerloop_notifications.application.ports import NotificationStore, PeopleStore

TZ_GUARD = "time_zone_sequence"
"""The time zone comes from two kinds of event, so it keeps a sequence of its own."""

DIRECTORY_EVENTS = (ProfileRegistered, ProfileUpdated, AvailabilityChanged, ProfileErased)


@dataclass
class Directory:
    people: PeopleStore
    notifications: NotificationStore

    async def on_profile(
        self, event: ProfileRegistered | ProfileUpdated, _: CloudEventMeta
    ) -> None:
        await self.people.apply_profile(
            event.person_id,
            event.sequence,
            {"display_name": event.display_name, "email": str(event.email)},
            guard="profile_sequence",
        )
        await self.people.apply_profile(
            event.person_id, event.sequence, {"time_zone": event.time_zone}, guard=TZ_GUARD
        )

    async def on_availability(self, event: AvailabilityChanged, _: CloudEventMeta) -> None:
        await self.people.apply_profile(
            event.person_id, event.sequence, {"time_zone": event.time_zone}, guard=TZ_GUARD
        )

    async def on_erased(self, event: ProfileErased, _: CloudEventMeta) -> None:
        # Tombstone first, so an event about the person redelivered after the sweep
        # finds them erased and creates nothing.
        await self.people.erase(event.person_id, event.sequence)
        await self.notifications.forget_person(event.person_id)
        # Everybody else's inbox items and queued e-mails that name them or quote them.
        await self.notifications.forget_mentions(event.person_id)
