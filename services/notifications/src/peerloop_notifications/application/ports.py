"""What the use cases need from storage, senders and the clock.

The Mongo adapters (`adapters/notification_store.py`, `adapters/people_store.py`)
and the in-memory ones (`adapters/memory_*.py`) honour the same contracts; the
atomicity each method promises is stated here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from peerloop_runtime.outbox import OutboxEntry

from peerloop_notifications.domain.calendar import CalendarSession
from peerloop_notifications.domain.notification import Notification
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import Preferences

Clock = Callable[[], datetime]


class StalePreferencesError(Exception):
    """The preferences changed since the version the caller read."""

    def __init__(self, person_id: str, expected_version: int) -> None:
        super().__init__(
            f"preferences changed since version {expected_version}; read them again and retry"
        )
        self.person_id = person_id


@dataclass(frozen=True)
class InboxPage:
    items: list[Notification]
    total: int
    unread: int


class NotificationStore(Protocol):
    async def insert(self, notification: Notification) -> bool:
        """Store a new notification with its outbox; False (nothing written) when its id exists."""

    async def insert_many(self, notifications: Sequence[Notification]) -> list[bool]:
        """`insert` for several at once; a duplicate does not stop the others."""

    async def inbox_page(
        self, person_id: str, now: datetime, *, offset: int, limit: int
    ) -> InboxPage: ...

    async def unread_count(self, person_id: str, now: datetime) -> int: ...

    async def mark_read(self, person_id: str, nid: str, now: datetime) -> Notification | None:
        """Mark one visible inbox item read (keeping the first read time); None if not theirs."""

    async def mark_all_read(self, person_id: str, now: datetime) -> int: ...

    async def inbox_since(
        self, person_ids: Collection[str], since: datetime, now: datetime
    ) -> list[Notification]:
        """Inbox items of these people that became visible in [since, now], in that order."""

    async def cancel_pending(self, request_id: str, kind: str) -> int:
        """Drop the request's notifications of `kind` not yet out."""

    async def deliveries(self, person_id: str, *, limit: int) -> list[Notification]:
        """Outbound deliveries, newest first."""

    async def claim(
        self, nid: str, owner: str, now: datetime, lease: timedelta
    ) -> Notification | None:
        """Win the next attempt of delivery `nid` if it is due: exactly one of several
        racing workers gets it, and it holds a lease until `now + lease`."""

    async def claim_next(self, owner: str, now: datetime, lease: timedelta) -> Notification | None:
        """`claim` of the most overdue delivery, or one whose sender's lease ran out."""

    async def claim_digest_batch(
        self, first: Notification, owner: str, now: datetime, lease: timedelta
    ) -> list[Notification]:
        """`first` and the other due digest e-mails of its person, each claimed."""

    async def mark_sent(self, nid: str, owner: str, now: datetime, event: OutboxEntry) -> bool:
        """Only while `owner` holds the lease: sent, with `event` in the outbox in the same
        write. False (nothing written) when the lease is lost."""

    async def reschedule(self, nid: str, owner: str, at: datetime, error: str) -> bool:
        """Only while `owner` holds the lease: pending again, due at `at`."""

    async def mark_failed(
        self, nid: str, owner: str, now: datetime, error: str, event: OutboxEntry
    ) -> bool:
        """Like `mark_sent`, for a delivery that failed for good."""

    async def mark_skipped(self, nid: str, owner: str, now: datetime, reason: str) -> bool:
        """Only while `owner` holds the lease: skipped (the channel was switched off)."""

    async def discard(self, nid: str) -> None: ...

    async def forget_person(self, person_id: str) -> int:
        """Delete the person's notifications and delivery claims."""

    async def forget_mentions(self, person_id: str) -> int:
        """Redact the person's name and words in everybody else's notifications (each one
        conditional on still naming them, so a concurrent or repeated call is harmless)."""


class PeopleStore(Protocol):
    async def get(self, person_id: str) -> Person | None: ...

    async def names(self, person_ids: list[str]) -> dict[str, str]:
        """Display names of those known (and not erased)."""

    async def apply_profile(
        self, person_id: str, sequence: int, fields: dict[str, Any], *, guard: str
    ) -> bool:
        """Store facts newer than the sequence in field `guard`, never over a tombstone."""

    async def erase(self, person_id: str, sequence: int) -> None:
        """Leave a tombstone without personal data and drop the preferences."""

    async def set_preferences(
        self, person_id: str, preferences: Preferences, expected_version: int
    ) -> int:
        """Save version `expected_version + 1`; `StalePreferencesError` if someone did first,
        or if `expected_version` is not the latest."""


class CalendarStore(Protocol):
    """Each person's sessions as calendars show them, and the secret of their feed."""

    async def get(self, session_id: str) -> CalendarSession | None: ...

    async def put(self, session: CalendarSession) -> bool:
        """Store the session unless a version of the same or a higher revision is stored
        (one conditional upsert); False when nothing was written."""

    async def sessions_of(self, person_id: str, *, limit: int) -> list[CalendarSession]:
        """The person's sessions, latest start first."""

    async def set_feed(self, person_id: str, digest: str) -> None:
        """The person's feed is the one with this token digest from now on (the old one ends)."""

    async def revoke_feed(self, person_id: str) -> bool:
        """No feed any more; False when there was none."""

    async def feed_owner(self, digest: str) -> str | None: ...


class DeliveryError(Exception):
    """A send did not succeed. `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One message leaving the service. `delivery_id` is stable across retries so a
    receiver can drop a copy sent again after a crash in mid-send."""

    delivery_id: str
    address: str
    subject: str
    body: str
    calendar: str | None = None
    """An iCalendar invitation to send along (e-mail: a text/calendar part)."""


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver or raise `DeliveryError`."""
