"""Turning an event into notifications: who hears, what they read, on which channels.

The consumer only writes documents: the inbox item (delivered at once) and one
queued delivery per outbound channel. Sending happens in the delivery worker, so
a slow mail server never holds a partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta, utc_now
from peerloop_contracts.matching import (
    HelpRequestCancelled,
    MatchAccepted,
    SessionCancelled,
    SessionRescheduled,
)
from peerloop_contracts.notifications import Channel
from peerloop_runtime.tracing import consuming

from peerloop_notifications.application.calendar_feeds import participants_of
from peerloop_notifications.application.events import delivered
from peerloop_notifications.application.ports import (
    CalendarStore,
    Clock,
    NotificationStore,
    PeopleStore,
)
from peerloop_notifications.domain.calendar import CalendarSession, invitation
from peerloop_notifications.domain.delivery import Delivery, DeliveryState
from peerloop_notifications.domain.kinds import TIME_BOUND
from peerloop_notifications.domain.notification import Notification, notification_id
from peerloop_notifications.domain.person import DEFAULT_TIME_ZONE, Person
from peerloop_notifications.domain.preferences import Preferences, channels_for
from peerloop_notifications.domain.routing import (
    Intent,
    booking_of,
    intents_for,
)
from peerloop_notifications.domain.schedule import send_not_before
from peerloop_notifications.domain.texts import Text, render

log = logging.getLogger("peerloop.notifications")

ENDS_REMINDERS = (HelpRequestCancelled, SessionRescheduled, SessionCancelled)
"""After these, the reminders queued for the request's session are wrong or pointless."""


@dataclass
class Notifier:
    people: PeopleStore
    store: NotificationStore
    on_inbox: Callable[[str], None] = lambda _person_id: None
    """Told the person id of each new inbox item (wakes live streams)."""
    on_outbound: Callable[[str], None] = lambda _nid: None
    """Told the id of each delivery queued (wakes the delivery worker)."""
    on_outbox: Callable[[str], None] = lambda _nid: None
    """Told the id of each notification whose outbox holds events (wakes the relay)."""
    now: Clock = field(default=utc_now)
    calendar: CalendarStore | None = None
    """Where sessions are kept for invitations and feeds; None: no invitations."""
    organizer: str = "notifications@peerloop.local"
    """The ORGANIZER of invitations: the address they come from."""

    async def _book(self, event: Event) -> CalendarSession | None:
        """The newest version of the event's session, stored for the feeds; None when the
        event describes no calendar session or an older version than the one stored."""
        if self.calendar is None or not isinstance(
            event, MatchAccepted | SessionRescheduled | SessionCancelled
        ):
            return None
        known = await self.calendar.get(event.session_id)
        booking = booking_of(event, known)
        if booking is None or (known is not None and booking.revision < known.revision):
            return None
        await self.calendar.put(booking)
        return booking

    async def _planned(self, event: Event, now: datetime) -> list[Intent]:
        if isinstance(event, ENDS_REMINDERS):
            await self.store.cancel_pending(event.request_id, "session-reminder")
        booking = await self._book(event)
        return [
            replace(i, calendar=booking) if i.kind == "session-invitation" else i
            for i in intents_for(event)
            if i.pointless_after is None or now < i.pointless_after
        ]

    async def _invitation(self, intent: Intent, person: Person | None) -> str | None:
        """The invitation an e-mail carries, in its reader's own time zone."""
        if intent.calendar is None:
            return None
        reader, other = await participants_of(self.people, intent.calendar, intent.recipient_id)
        return invitation(
            intent.calendar,
            reader=reader,
            other=other,
            time_zone=person.time_zone if person else DEFAULT_TIME_ZONE,
            organizer=self.organizer,
            stamp=self.now(),
        )

    async def handle(self, event: Event, meta: CloudEventMeta) -> None:
        now = self.now()
        intents = await self._planned(event, now)
        if not intents:
            return
        mentioned = {i.recipient_id for i in intents} | {p for i in intents for p in i.mentions}
        names = await self.people.names(sorted(mentioned))
        created: list[Notification] = []
        for intent in intents:
            person = await self.people.get(intent.recipient_id)
            if person is not None and person.erased:
                continue
            calendar = await self._invitation(intent, person)
            created += await self._notify(intent, person, names, meta, now, calendar)
        self._wake(created, now)

    async def handle_batch(self, items: Sequence[tuple[Event, CloudEventMeta]]) -> None:
        """`handle` for several events, their notifications written in one `insert_many`.

        The people they mention are looked up once for the whole batch. Idempotent
        like `handle`: a notification's `_id` comes from its event, so one already
        stored is left alone and nothing is woken for it.
        """
        now = self.now()
        planned: list[tuple[Event, CloudEventMeta, list[Intent]]] = []
        for event, meta in items:
            # In order with the other events of the batch: rare, and it writes.
            intents = await self._planned(event, now)
            if isinstance(event, ENDS_REMINDERS):
                # Reminders planned from earlier events of this batch are not stored yet.
                planned = [
                    (e, m, [i for i in ins if not _reminds_of(i, event.request_id)])
                    for e, m, ins in planned
                ]
            if intents:
                planned.append((event, meta, intents))
        if not planned:
            return
        intents_all = [i for _, _, intents in planned for i in intents]
        mentioned = {i.recipient_id for i in intents_all} | {
            p for i in intents_all for p in i.mentions
        }
        recipients = sorted({i.recipient_id for i in intents_all})
        names, people = await asyncio.gather(
            self.people.names(sorted(mentioned)),
            asyncio.gather(*(self.people.get(r) for r in recipients)),
        )
        by_id = dict(zip(recipients, people, strict=True))
        invitations = {
            (id(event), n): await self._invitation(intent, by_id[intent.recipient_id])
            for event, _, intents in planned
            for n, intent in enumerate(intents)
            if intent.calendar is not None
        }
        docs: list[Notification] = []
        for event, meta, intents in planned:
            # Each event's outbox entries join the trace of the event that caused them.
            with consuming(type(event).topic(), meta.traceparent, meta.id):
                for n, intent in enumerate(intents):
                    person = by_id[intent.recipient_id]
                    if person is not None and person.erased:
                        continue
                    calendar = invitations.get((id(event), n))
                    docs += self._documents(intent, person, names, meta, now, calendar)
        written = await self.store.insert_many(docs)
        created = [doc for doc, new in zip(docs, written, strict=True) if new]
        self._wake(created, now)

    def _wake(self, created: list[Notification], now: datetime) -> None:
        for n in created:
            if n.outbox:
                self.on_outbox(n.id)
        for n in created:
            if n.visible(now):
                self.on_inbox(n.person_id)
        for n in created:
            if n.delivery is not None and n.delivery.state is DeliveryState.PENDING:
                self.on_outbound(n.id)

    def _documents(
        self,
        intent: Intent,
        person: Person | None,
        names: dict[str, str],
        meta: CloudEventMeta,
        now: datetime,
        calendar: str | None,
    ) -> list[Notification]:
        prefs = person.preferences if person else Preferences()
        text = render(
            intent.kind,
            intent.context,
            recipient_name=names.get(intent.recipient_id),
            names=names,
        )
        return [
            self._document(intent, channel, text, meta, person, now, names, calendar)
            for channel in channels_for(prefs, intent.kind)
        ]

    async def _notify(
        self,
        intent: Intent,
        person: Person | None,
        names: dict[str, str],
        meta: CloudEventMeta,
        now: datetime,
        calendar: str | None,
    ) -> list[Notification]:
        prefs = person.preferences if person else Preferences()
        text = render(
            intent.kind,
            intent.context,
            recipient_name=names.get(intent.recipient_id),
            names=names,
        )
        created = []
        # Someone not known yet still gets an e-mail: their profile may be on its way on
        # another topic, and the worker looks the address up when it sends.
        for channel in channels_for(prefs, intent.kind):
            doc = self._document(intent, channel, text, meta, person, now, names, calendar)
            if await self.store.insert(doc):
                created.append(doc)
            else:
                log.debug("already notified: %s", doc.id)
        return created

    def _document(
        self,
        intent: Intent,
        channel: Channel,
        text: Text,
        meta: CloudEventMeta,
        person: Person | None,
        now: datetime,
        names: dict[str, str],
        calendar: str | None,
    ) -> Notification:
        due = max(now, intent.deliver_at) if intent.deliver_at else now
        n = Notification(
            id=notification_id(intent.recipient_id, meta.id, channel, intent.kind),
            person_id=intent.recipient_id,
            kind=intent.kind,
            channel=channel,
            source_event_id=meta.id,
            source_type=meta.type,
            subject=text.subject,
            body=text.body,
            created_at=now,
            request_id=intent.request_id,
            links=intent.links,
            mentions=mentions_of(intent, names),
            calendar=calendar if channel == "email" else None,
        )
        if channel == "inbox":
            n = replace(n, visible_at=due)
            if due > now:
                # Shows up by itself at `due`; the worker records the delivery then.
                return replace(n, delivery=Delivery.queued(due))
            return replace(n, delivered_at=now, outbox=(delivered(n, attempts=1),))
        prefs = person.preferences if person else Preferences()
        if intent.kind in TIME_BOUND:
            return replace(n, delivery=Delivery.queued(due))
        digest = channel == "email" and prefs.digest
        not_before = send_not_before(
            now,
            quiet=prefs.quiet_hours,
            time_zone=person.time_zone if person else DEFAULT_TIME_ZONE,
            digest_hour=prefs.digest_hour if digest else None,
        )
        return replace(n, digest=digest, delivery=Delivery.queued(not_before))


def mentions_of(intent: Intent, names: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Per person the text names: their name as written and the words of theirs it quotes."""
    mentioned = dict.fromkeys((*intent.mentions, *intent.quoted))
    return {
        person_id: tuple(t for t in (names.get(person_id), *intent.quoted.get(person_id, ())) if t)
        for person_id in mentioned
        if person_id != intent.recipient_id
    }


def _reminds_of(intent: Intent, request_id: str) -> bool:
    return intent.kind == "session-reminder" and intent.request_id == request_id
