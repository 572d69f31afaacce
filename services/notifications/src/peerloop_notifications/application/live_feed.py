"""Live inbox streams (Server-Sent Events).

The store is the source of truth: a stream reads new inbox items from it. A
write in this process wakes the person's streams at once; items another
replica wrote are found by the periodic look (there are no change streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peerloop_contracts.envelope import utc_now
from peerloop_contracts.runtime.mongo import Document

from peerloop_notifications.adapters.notification_store import NotificationStore


@dataclass
class LiveFeed:
    _waiters: dict[str, set[asyncio.Event]] = field(default_factory=dict)

    def announce(self, person_id: str) -> None:
        for waiter in self._waiters.get(person_id, ()):
            waiter.set()

    @contextlib.contextmanager
    def listen(self, person_id: str) -> Iterator[asyncio.Event]:
        waiter = asyncio.Event()
        self._waiters.setdefault(person_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(person_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[person_id]


def _millis(moment: datetime) -> datetime:
    # The store keeps milliseconds; a finer cursor would skip items of the same millisecond.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def item_view(doc: Document) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "kind": doc["kind"],
        "subject": doc["subject"],
        "body": doc["body"],
        "read": bool(doc.get("read", False)),
        "created_at": doc["created_at"].isoformat(),
        "visible_at": doc["visible_at"].isoformat(),
        "source_event_id": doc["source_event_id"],
        "links": doc.get("links", {}),
    }


def sse_frame(doc: Document) -> str:
    return f"id: {doc['_id']}\nevent: notification\ndata: {json.dumps(item_view(doc))}\n\n"


async def inbox_stream(
    store: NotificationStore,
    feed: LiveFeed,
    person_id: str,
    *,
    poll_seconds: float,
    heartbeat_seconds: float = 15.0,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
    since: datetime | None = None,
) -> AsyncIterator[str]:
    """SSE frames of the person's inbox items created from now on."""
    cursor = _millis(since or utc_now())
    seen_at_cursor: set[str] = set()
    loop = asyncio.get_running_loop()
    last_sent = loop.time()
    with feed.listen(person_id) as wake:
        yield ": connected\n\n"
        while True:
            wake.clear()
            for doc in await store.inbox_since(person_id, cursor, utc_now()):
                if doc["_id"] in seen_at_cursor:
                    continue
                visible = doc["visible_at"]
                if visible > cursor:
                    cursor, seen_at_cursor = visible, set()
                seen_at_cursor.add(doc["_id"])
                last_sent = loop.time()
                yield sse_frame(doc)
            if disconnected is not None and await disconnected():
                return
            if loop.time() - last_sent >= heartbeat_seconds:
                last_sent = loop.time()
                yield ": keep-alive\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
