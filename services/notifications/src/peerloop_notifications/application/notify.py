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
from peerloop_contracts.matching import HelpRequestCancelled
from peerloop_contracts.notifications import Channel
from peerloop_runtime.tracing import consuming

from peerloop_notifications.application.events import delivered
from peerloop_notifications.application.ports import Clock, NotificationStore, PeopleStore
from peerloop_notifications.domain.delivery import Delivery, DeliveryState
from peerloop_notifications.domain.kinds import TIME_BOUND
from peerloop_notifications.domain.notification import Notification, notification_id
from peerloop_notifications.domain.person import DEFAULT_TIME_ZONE, Person
from peerloop_notifications.domain.preferences import Preferences, channels_for
from peerloop_notifications.domain.routing import Intent, intents_for
from peerloop_notifications.domain.schedule import send_not_before
from peerloop_notifications.domain.texts import Text, render

log = logging.getLogger("peerloop.notifications")


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

    async def handle(self, event: Event, meta: CloudEventMeta) -> None:
        now = self.now()
        if isinstance(event, HelpRequestCancelled):
            await self.store.cancel_pending(event.request_id, "session-reminder")
        intents = [
            i for i in intents_for(event) if i.pointless_after is None or now < i.pointless_after
        ]
        if not intents:
            return
        mentioned = {i.recipient_id for i in intents} | {p for i in intents for p in i.mentions}
        names = await self.people.names(sorted(mentioned))
        created: list[Notification] = []
        for intent in intents:
            person = await self.people.get(intent.recipient_id)
            if person is not None and person.erased:
                continue
            created += await self._notify(intent, person, names, meta, now)
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
            if isinstance(event, HelpRequestCancelled):
                # In order with the other events of the batch: rare, and it writes.
                await self.store.cancel_pending(event.request_id, "session-reminder")
            intents = [
                i
                for i in intents_for(event)
                if i.pointless_after is None or now < i.pointless_after
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
        docs: list[Notification] = []
        for event, meta, intents in planned:
            # Each event's outbox entries join the trace of the event that caused them.
            with consuming(type(event).topic(), meta.traceparent, meta.id):
                for intent in intents:
                    person = by_id[intent.recipient_id]
                    if person is not None and person.erased:
                        continue
                    docs += self._documents(intent, person, names, meta, now)
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
    ) -> list[Notification]:
        prefs = person.preferences if person else Preferences()
        text = render(
            intent.kind,
            intent.context,
            recipient_name=names.get(intent.recipient_id),
            names=names,
        )
        return [
            self._document(intent, channel, text, meta, person, now, names)
            for channel in channels_for(prefs, intent.kind)
        ]

    async def _notify(
        self,
        intent: Intent,
        person: Person | None,
        names: dict[str, str],
        meta: CloudEventMeta,
        now: datetime,
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
            doc = self._document(intent, channel, text, meta, person, now, names)
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
