"""Builds the notifications service: runtime, stores, senders, use cases, consumer, worker.

Tests pass their own stores and get the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from peerloop_runtime.kafka import EventConsumer
from peerloop_runtime.organisation_skills import follow_organisation_skills
from peerloop_runtime.outbound import OutboundClient
from peerloop_runtime.service import Background, ServiceRuntime

from peerloop_notifications.adapters.calendar_store import CalendarStore
from peerloop_notifications.adapters.email_sender import SmtpSender
from peerloop_notifications.adapters.notification_store import NotificationStore
from peerloop_notifications.adapters.people_store import PeopleStore
from peerloop_notifications.adapters.senders import InboxReveal
from peerloop_notifications.adapters.webhook_sender import WebhookSender
from peerloop_notifications.application import ports
from peerloop_notifications.application.calendar_feeds import CalendarFeeds
from peerloop_notifications.application.delivery import DeliveryWorker
from peerloop_notifications.application.directory import Directory
from peerloop_notifications.application.live_feed import LiveFeed, StreamLimits
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.application.queries import InboxQueries
from peerloop_notifications.config import Settings
from peerloop_notifications.domain.retry import Backoff
from peerloop_notifications.entrypoints.consumers import batch_handlers, consumer_handlers

NOTIFICATIONS = "notifications"
PEOPLE = "people"
PREFERENCES = "preferences"
DELIVERY_CLAIMS = "delivery_claims"
CALENDAR_SESSIONS = "calendar_sessions"
CALENDAR_FEEDS = "calendar_feeds"


@dataclass(frozen=True)
class NotificationsService:
    settings: Settings
    runtime: ServiceRuntime
    people: ports.PeopleStore
    store: ports.NotificationStore
    feed: LiveFeed
    worker: DeliveryWorker
    notifier: Notifier
    queries: InboxQueries
    directory: Directory
    consumer: EventConsumer
    calendar: ports.CalendarStore
    calendar_feeds: CalendarFeeds


def bootstrap(
    settings: Settings | None = None,
    *,
    people: ports.PeopleStore | None = None,
    store: ports.NotificationStore | None = None,
    calendar: ports.CalendarStore | None = None,
) -> NotificationsService:
    s = settings or Settings()
    runtime = ServiceRuntime(name="notifications", settings=s, outbox_collections=[NOTIFICATIONS])
    # Indexes before the consumer joins, so the first write already has them.
    if store is None:
        store = NotificationStore(
            runtime.collection(NOTIFICATIONS), runtime.collection(DELIVERY_CLAIMS)
        )
        runtime.on_start(store.ensure_indexes)
    if people is None:
        people = PeopleStore(runtime.collection(PEOPLE), runtime.collection(PREFERENCES))
        runtime.on_start(people.ensure_indexes)
    if calendar is None:
        calendar_store = CalendarStore(
            runtime.collection(CALENDAR_SESSIONS), runtime.collection(CALENDAR_FEEDS)
        )
        runtime.on_start(calendar_store.ensure_indexes)
        calendar = calendar_store
    organizer = parseaddr(s.smtp_sender)[1] or s.smtp_sender
    feed = LiveFeed(
        store,
        poll_seconds=s.stream_poll_seconds,
        limits=StreamLimits(
            per_person=s.stream_max_per_person,
            per_process=s.stream_max_per_process,
            idle_seconds=s.stream_idle_seconds,
            retry_after_seconds=s.stream_retry_after_seconds,
        ),
    )
    http = OutboundClient(s.outbound)
    worker = DeliveryWorker(
        store=store,
        people=people,
        senders={
            "inbox": InboxReveal(),
            "email": SmtpSender(
                host=s.smtp_host,
                port=s.smtp_port,
                sender=s.smtp_sender,
                timeout=s.smtp_timeout_seconds,
                start_tls=s.smtp_start_tls,
                use_tls=s.smtp_use_tls,
                username=s.smtp_username,
                password=s.smtp_password,
            ),
            "webhook": WebhookSender(
                secrets=[
                    secret.get_secret_value()
                    for secret in (s.webhook_secret, s.webhook_previous_secret)
                    if secret is not None
                ],
                client=http,
                deadline_seconds=s.webhook_timeout_seconds,
            ),
        },
        backoff=Backoff(
            base_seconds=s.delivery_base_delay_seconds,
            max_seconds=s.delivery_max_delay_seconds,
            max_attempts=s.delivery_max_attempts,
        ),
        lease=timedelta(seconds=s.delivery_lease_seconds),
        concurrency=s.delivery_concurrency,
        poll_seconds=s.delivery_poll_seconds,
        on_outbox=runtime.relay.notify,
    )
    notifier = Notifier(
        people=people,
        store=store,
        on_inbox=feed.announce,
        on_outbound=worker.notify,
        on_outbox=runtime.relay.notify,
        calendar=calendar,
        organizer=organizer,
    )
    calendar_feeds = CalendarFeeds(calendar=calendar, people=people, organizer=organizer)
    queries = InboxQueries(store=store, people=people, feed=feed)
    directory = Directory(people=people, notifications=store)
    consumer = runtime.add_consumer(
        consumer_handlers(directory=directory, notifier=notifier),
        batch=True,
        batch_handlers=batch_handlers(notifier),
    )
    # Messages name an organisation's own skill as its admins defined it.
    follow_organisation_skills(runtime)
    # Stopped before the runtime: what it settles lands in outboxes the relay drains.
    # Half the grace: the runtime's own stop needs the rest.
    runtime.add_worker(
        Background(start=worker.start, stop=lambda: worker.stop(grace=s.shutdown_grace_seconds / 2))
    )
    # Open streams end before the store they read closes.
    runtime.add_worker(Background(start=lambda: None, stop=feed.close))
    runtime.on_stop(http.aclose)
    return NotificationsService(
        settings=s,
        runtime=runtime,
        people=people,
        store=store,
        feed=feed,
        worker=worker,
        notifier=notifier,
        queries=queries,
        directory=directory,
        consumer=consumer,
        calendar=calendar,
        calendar_feeds=calendar_feeds,
    )
