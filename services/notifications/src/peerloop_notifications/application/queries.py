"""What the HTTP layer asks of a person's own data, and the few changes they make to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from peerloop_contracts.envelope import utc_now

from peerloop_notifications.application.live_feed import LiveFeed, Subscription
from peerloop_notifications.application.ports import (
    Clock,
    InboxPage,
    NotificationStore,
    PeopleStore,
)
from peerloop_notifications.domain.notification import Notification
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import Preferences


@dataclass
class InboxQueries:
    store: NotificationStore
    people: PeopleStore
    feed: LiveFeed
    now: Clock = field(default=utc_now)

    async def registered(self, person_id: str) -> Person | None:
        """The person, if their profile has arrived and they are not erased."""
        person = await self.people.get(person_id)
        return person if person is not None and person.registered else None

    async def inbox(self, person_id: str, *, offset: int, limit: int) -> InboxPage:
        return await self.store.inbox_page(person_id, self.now(), offset=offset, limit=limit)

    async def unread(self, person_id: str) -> int:
        return await self.store.unread_count(person_id, self.now())

    async def mark_read(self, person_id: str, notification_id: str) -> Notification | None:
        return await self.store.mark_read(person_id, notification_id, self.now())

    async def mark_all_read(self, person_id: str) -> int:
        return await self.store.mark_all_read(person_id, self.now())

    def live(self, person_id: str) -> Subscription:
        """A live stream of new items; `StreamLimitError` beyond the caps."""
        return self.feed.subscribe(person_id)

    async def deliveries(self, person_id: str, *, limit: int) -> list[Notification]:
        return await self.store.deliveries(person_id, limit=limit)

    async def set_preferences(
        self, person_id: str, preferences: Preferences, expected_version: int
    ) -> int:
        """The new version; `StalePreferencesError` when the version moved on."""
        return await self.people.set_preferences(person_id, preferences, expected_version)
