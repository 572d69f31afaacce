"""Wiring: the stores, the notifier, the delivery worker and the consumer of one service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from fastapi import FastAPI
from peerloop_contracts.runtime.kafka import EventConsumer, RetryPolicy
from peerloop_contracts.runtime.mongo import TRANSIENT_STORE_ERRORS
from peerloop_contracts.runtime.service import ServiceRuntime

from peerloop_notifications.adapters.email_sender import SmtpSender
from peerloop_notifications.adapters.notification_store import NotificationStore
from peerloop_notifications.adapters.people_store import PeopleStore
from peerloop_notifications.adapters.senders import InboxReveal
from peerloop_notifications.adapters.webhook_sender import WebhookSender
from peerloop_notifications.application.delivery import DeliveryWorker
from peerloop_notifications.application.directory import Directory
from peerloop_notifications.application.live_feed import LiveFeed, StreamLimits
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.application.queries import InboxQueries
from peerloop_notifications.config import Settings
from peerloop_notifications.domain.retry import Backoff
from peerloop_notifications.entrypoints.consumers import build_consumer

NOTIFICATIONS = "notifications"
PEOPLE = "people"
PREFERENCES = "preferences"
DELIVERY_CLAIMS = "delivery_claims"


@dataclass
class NotificationsService:
    settings: Settings
    runtime: ServiceRuntime = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.runtime = ServiceRuntime(
            name="notifications", settings=s, outbox_collections=[NOTIFICATIONS]
        )
        self.people = PeopleStore(
            self.runtime.collection(PEOPLE), self.runtime.collection(PREFERENCES)
        )
        self.store = NotificationStore(
            self.runtime.collection(NOTIFICATIONS), self.runtime.collection(DELIVERY_CLAIMS)
        )
        self.feed = LiveFeed(
            self.store,
            poll_seconds=s.stream_poll_seconds,
            limits=StreamLimits(
                per_person=s.stream_max_per_person,
                per_process=s.stream_max_per_process,
                idle_seconds=s.stream_idle_seconds,
                retry_after_seconds=s.stream_retry_after_seconds,
            ),
        )
        self.http = httpx.AsyncClient(timeout=s.webhook_timeout_seconds)
        self.worker = DeliveryWorker(
            store=self.store,
            people=self.people,
            senders={
                "inbox": InboxReveal(),
                "email": SmtpSender(
                    host=s.smtp_host,
                    port=s.smtp_port,
                    sender=s.smtp_sender,
                    timeout=s.smtp_timeout_seconds,
                    start_tls=s.smtp_start_tls,
                    username=s.smtp_username,
                    password=s.smtp_password,
                ),
                "webhook": WebhookSender(secret=s.webhook_secret, client=self.http),
            },
            backoff=Backoff(
                base_seconds=s.delivery_base_delay_seconds,
                max_seconds=s.delivery_max_delay_seconds,
                max_attempts=s.delivery_max_attempts,
            ),
            lease=timedelta(seconds=s.delivery_lease_seconds),
            concurrency=s.delivery_concurrency,
            poll_seconds=s.delivery_poll_seconds,
            on_outbox=self.runtime.relay.notify,
        )
        self.notifier = Notifier(
            people=self.people,
            store=self.store,
            on_inbox=self.feed.announce,
            on_outbound=self.worker.notify,
            on_outbox=self.runtime.relay.notify,
        )
        self.queries = InboxQueries(store=self.store, people=self.people, feed=self.feed)
        self.directory = Directory(people=self.people, notifications=self.store)
        self.consumer: EventConsumer = build_consumer(
            self.runtime.broker,
            self.runtime.group_id,
            directory=self.directory,
            notifier=self.notifier,
            retry=RetryPolicy(transient=TRANSIENT_STORE_ERRORS),
        )
        self.runtime.consumers.append(self.consumer)

    async def start(self) -> None:
        # Indexes before the consumer joins, so the first write already has them.
        await self.store.ensure_indexes()
        await self.people.ensure_indexes()
        await self.runtime.start()
        self.worker.start()

    async def stop(self) -> None:
        # The worker first: what it settles lands in outboxes the runtime's relay drains.
        await self.worker.stop(grace=self.settings.shutdown_grace_seconds / 2)
        await self.feed.close()
        await self.runtime.stop()
        await self.http.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await asyncio.wait_for(self.stop(), timeout=self.settings.shutdown_grace_seconds)
