"""Live inbox streams (Server-Sent Events) fed by one change feed per process.

The store is the source of truth. One poller per process reads the new inbox
items of everybody with an open stream in one query and hands each to that
person's streams: a write in this process wakes it at once (`announce`), items
another replica wrote are found by its periodic look. It runs only while some
stream is open.

Streams are capped per person and per process (`StreamLimitError` carries when
to try again), and a stream that has carried no item for `idle_seconds` ends;
the browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from peerloop_contracts.envelope import utc_now

from peerloop_notifications.application.ports import Clock
from peerloop_notifications.domain.notification import Notification

log = logging.getLogger("peerloop.notifications.live")


class InboxChanges(Protocol):
    async def inbox_since(
        self, person_ids: Collection[str], since: datetime, now: datetime
    ) -> list[Notification]: ...


@dataclass(frozen=True)
class StreamLimits:
    per_person: int = 3
    per_process: int = 1000
    idle_seconds: float = 300.0
    """A stream that carried no item for this long is closed."""
    retry_after_seconds: int = 10


class StreamLimitError(Exception):
    def __init__(self, reason: str, retry_after_seconds: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


def _millis(moment: datetime) -> datetime:
    # The store keeps milliseconds; a finer cursor would skip items of the same millisecond.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(eq=False)
class Subscription:
    person_id: str
    since: datetime
    items: asyncio.Queue[Notification] = field(default_factory=asyncio.Queue)
    closed: bool = False


@dataclass
class LiveFeed:
    store: InboxChanges
    poll_seconds: float = 2.0
    limits: StreamLimits = field(default_factory=StreamLimits)
    now: Clock = field(default=utc_now)
    polls: int = 0
    """Queries made for new items (one per look, whatever the number of streams)."""

    def __post_init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._wake = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._cursor: datetime | None = None
        self._seen_at_cursor: set[str] = set()

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def announce(self, person_id: str) -> None:
        """A new inbox item of `person_id` was written here: look now if they listen."""
        if person_id in self._subscribers:
            self._wake.set()

    def subscribe(self, person_id: str) -> Subscription:
        """A new stream of the person's items from now on; `StreamLimitError` beyond the caps."""
        limits = self.limits
        if len(self._subscribers.get(person_id, ())) >= limits.per_person:
            raise StreamLimitError(
                f"at most {limits.per_person} live streams per person; close one first",
                limits.retry_after_seconds,
            )
        if self.open_streams >= limits.per_process:
            raise StreamLimitError(
                "too many live streams on this server; try again shortly",
                limits.retry_after_seconds,
            )
        sub = Subscription(person_id, _millis(self.now()))
        self._subscribers.setdefault(person_id, set()).add(sub)
        if self._cursor is None or sub.since < self._cursor:
            self._cursor, self._seen_at_cursor = sub.since, set()
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="inbox-change-feed")
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        subs = self._subscribers.get(sub.person_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.person_id]
        if not self._subscribers:
            self._cursor = None
            self._wake.set()  # the poller sees nobody listens and ends

    async def close(self) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                self.unsubscribe(sub)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _poll(self) -> None:
        while self._subscribers:
            self._wake.clear()
            try:
                await self.look()
            except Exception:
                log.exception("inbox change feed: store unavailable or unexpected error")
            if not self._subscribers:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def look(self) -> None:
        """One query for the new items of everybody listening, handed to their streams."""
        if self._cursor is None or not self._subscribers:
            return
        self.polls += 1
        found = await self.store.inbox_since(set(self._subscribers), self._cursor, self.now())
        for item in found:
            if item.id in self._seen_at_cursor or item.visible_at is None:
                continue
            if item.visible_at > self._cursor:
                self._cursor, self._seen_at_cursor = item.visible_at, set()
            self._seen_at_cursor.add(item.id)
            for sub in self._subscribers.get(item.person_id, ()):
                if item.visible_at >= sub.since:
                    sub.items.put_nowait(item)


def item_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "subject": n.subject,
        "body": n.body,
        "read": n.read,
        "created_at": n.created_at.isoformat(),
        "visible_at": n.visible_at.isoformat() if n.visible_at else None,
        "source_event_id": n.source_event_id,
        "links": dict(n.links),
    }


def sse_frame(n: Notification) -> str:
    return f"id: {n.id}\nevent: notification\ndata: {json.dumps(item_view(n))}\n\n"


async def inbox_stream(
    feed: LiveFeed,
    sub: Subscription,
    *,
    heartbeat_seconds: float = 15.0,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """SSE frames of the subscription's items; ends when idle too long or the client left."""
    loop = asyncio.get_running_loop()
    last_item = last_sent = loop.time()
    tick = min(heartbeat_seconds, feed.poll_seconds, feed.limits.idle_seconds)
    try:
        yield ": connected\n\n"
        while True:
            try:
                item = await asyncio.wait_for(sub.items.get(), timeout=tick)
            except TimeoutError:
                pass
            else:
                last_item = last_sent = loop.time()
                yield sse_frame(item)
                continue
            if sub.closed or (disconnected is not None and await disconnected()):
                return
            if loop.time() - last_item >= feed.limits.idle_seconds:
                yield ": idle, closing\n\n"
                return
            if loop.time() - last_sent >= heartbeat_seconds:
                last_sent = loop.time()
                yield ": keep-alive\n\n"
    finally:
        feed.unsubscribe(sub)
