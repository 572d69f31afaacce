"""The delivery worker: sends queued e-mails and webhooks off the consume path.

Each send is bracketed by two writes on the notification document: `sending`
(with a lease) before the call, `sent` after it. A crash before the call leaves
a lease that runs out, and the delivery is taken up again; once `sent` is
written nothing sends it again. Only a crash during the call itself can repeat
a message, and then with the same Message-ID / delivery id so receivers can
drop the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from peerloop_contracts.envelope import utc_now
from peerloop_contracts.notifications import Channel

from peerloop_notifications.application.events import delivered, failed
from peerloop_notifications.application.ports import (
    Clock,
    DeliveryError,
    NotificationStore,
    Outgoing,
    PeopleStore,
    Sender,
)
from peerloop_notifications.domain.delivery import gives_up
from peerloop_notifications.domain.digest import DigestItem, group_digest
from peerloop_notifications.domain.notification import Notification
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import channels_for
from peerloop_notifications.domain.retry import Backoff
from peerloop_notifications.domain.texts import render_digest

log = logging.getLogger("peerloop.notifications.delivery")


def address_of(person: Person | None, person_id: str, channel: Channel) -> str | None:
    if channel == "inbox":
        return person_id
    if person is None:
        return None
    if channel == "email":
        return person.email
    if channel == "webhook" and person.preferences.webhook_url is not None:
        return str(person.preferences.webhook_url)
    return None


@dataclass
class DeliveryWorker:
    store: NotificationStore
    people: PeopleStore
    senders: Mapping[Channel, Sender]
    backoff: Backoff = field(default_factory=Backoff)
    lease: timedelta = timedelta(seconds=60)
    concurrency: int = 4
    poll_seconds: float = 1.0
    on_outbox: Callable[[str], None] = lambda _nid: None
    now: Clock = field(default=utc_now)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._named: deque[str] = deque()
        self._swept_at = float("-inf")
        self._sweepers = 0  # workers running the query for due deliveries
        self._backlog = False  # the last query found one: more may be due

    def notify(self, nid: str | None = None) -> None:
        """Delivery `nid` was just queued: try it by `_id` at once. None: look for due ones now.

        Named deliveries are claimed by a point lookup; the query for due ones
        (retries coming due, leases of dead workers, anything not named) runs at
        most every `poll_seconds` while idle, as on some stores it scans.
        """
        if nid is None:
            self._swept_at = float("-inf")
        else:
            self._named.append(nid)
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"delivery-{n}") for n in range(self.concurrency)
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Let sends in flight finish (up to `grace` seconds), then stop."""
        self._stopping = True
        self._wake.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            if self._named:
                nid = self._named.popleft()
                try:
                    await self.run_once(nid)
                except Exception:
                    log.exception("delivery worker: store unavailable or unexpected error")
                    self._named.append(nid)
                    await asyncio.sleep(self.poll_seconds)
                continue
            sweep_due = loop.time() - self._swept_at >= self.poll_seconds
            # While idle one worker queries at a time; while the query keeps finding
            # work (a backlog after an outage) all of them drain it.
            if sweep_due and (self._backlog or not self._sweepers):
                self._sweepers += 1
                try:
                    self._backlog = await self.run_once()
                except Exception:
                    log.exception("delivery worker: store unavailable or unexpected error")
                    await asyncio.sleep(self.poll_seconds)
                    continue
                finally:
                    self._sweepers -= 1
                if self._backlog:
                    continue
                self._swept_at = loop.time()
                sweep_due = False
            self._wake.clear()
            if self._named or self._stopping:
                continue
            # Another worker is querying: check again after a poll, not at once (no spinning).
            wait = (
                self.poll_seconds if sweep_due else self._swept_at + self.poll_seconds - loop.time()
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.0))

    async def run_once(self, nid: str | None = None) -> bool:
        """Send delivery `nid` if due, or else the most overdue one (or one digest).

        False when nothing was due.
        """
        now = self.now()
        if nid is not None:
            doc = await self.store.claim(nid, self.owner, now, self.lease)
        else:
            doc = await self.store.claim_next(self.owner, now, self.lease)
        if doc is None:
            return False
        person = await self.people.get(doc.person_id)
        if not await self._still_wanted(doc, person):
            return True
        channel = doc.channel
        address = address_of(person, doc.person_id, channel)
        batch = [doc]
        if doc.digest and address is not None:
            batch = await self.store.claim_digest_batch(doc, self.owner, now, self.lease)
        if address is None:
            await self._settle(batch, DeliveryError(f"no {channel} address", permanent=True))
            return True
        try:
            await self.senders[channel].send(self._outgoing(batch, address, person))
        except DeliveryError as exc:
            await self._settle(batch, exc)
        except Exception as exc:
            # A sender bug must not leave the delivery `sending` until its lease ends,
            # again and again: it counts as a failed attempt like any other.
            log.exception("delivery %s: unexpected error from the %s sender", doc.id, channel)
            await self._settle(batch, DeliveryError(f"{type(exc).__name__}: {exc}"))
        else:
            await self._settle(batch, None)
        return True

    async def _still_wanted(self, doc: Notification, person: Person | None) -> bool:
        """Whether to send now; if not, the delivery is settled here.

        Decided at send time, not when queued: the profile may have arrived since (it
        travels on another topic), the person may have switched the channel off, or
        may have been erased.
        """
        if person is not None and person.erased:
            await self.store.discard(doc.id)
            return False
        channel = doc.channel
        if channel == "inbox":
            return True
        if person is None or not person.registered:
            await self._settle([doc], DeliveryError("recipient not known yet"))
            return False
        if channel not in channels_for(person.preferences, doc.kind):
            await self.store.mark_skipped(doc.id, self.owner, self.now(), f"{channel} switched off")
            return False
        return True

    def _outgoing(self, batch: list[Notification], address: str, person: Person | None) -> Outgoing:
        first = batch[0]
        if not first.digest:
            return Outgoing(first.id, address, first.subject, first.body, first.calendar)
        text = render_digest(
            group_digest(DigestItem(d.id, d.kind, d.subject, d.body) for d in batch),
            recipient_name=person.display_name if person else None,
        )
        return Outgoing(f"digest:{first.id}", address, text.subject, text.body)

    async def _settle(self, batch: list[Notification], error: DeliveryError | None) -> None:
        now = self.now()
        for doc in batch:
            attempts = doc.delivery.attempts if doc.delivery else 1
            if error is None:
                held = await self.store.mark_sent(
                    doc.id, self.owner, now, delivered(doc, attempts=attempts)
                )
                if held:
                    self.on_outbox(doc.id)
            elif gives_up(permanent=error.permanent, attempts=attempts, backoff=self.backoff):
                held = await self.store.mark_failed(
                    doc.id,
                    self.owner,
                    now,
                    error.reason,
                    failed(doc, attempts=attempts, reason=error.reason),
                )
                if held:
                    self.on_outbox(doc.id)
                log.warning("delivery %s failed for good: %s", doc.id, error.reason)
            else:
                at = now + timedelta(seconds=self.backoff.delay(attempts))
                held = await self.store.reschedule(doc.id, self.owner, at, error.reason)
                log.info("delivery %s retried at %s: %s", doc.id, at, error.reason)
            if not held:
                log.warning("lost the lease on %s; another worker has it", doc.id)
