"""Live inbox streams: caps per person and per process, idle streams closed, one shared feed."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_notifications.adapters.memory_notifications import InMemoryNotificationStore
from peerloop_notifications.application.live_feed import (
    LiveFeed,
    StreamLimitError,
    StreamLimits,
    inbox_stream,
)
from peerloop_notifications.domain.notification import Notification

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class CountingStore(InMemoryNotificationStore):
    """Counts the queries for new items, and who they asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[frozenset[str]] = []

    async def inbox_since(
        self, person_ids: Collection[str], since: datetime, now: datetime
    ) -> list[Notification]:
        self.asked.append(frozenset(person_ids))
        return await super().inbox_since(person_ids, since, now)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def item(person_id: str, n: int, at: datetime) -> Notification:
    return Notification(
        id=f"inbox:{person_id}:ev-{n}:feedback-received",
        person_id=person_id,
        kind="feedback-received",
        channel="inbox",
        source_event_id=f"ev-{n}",
        source_type="t",
        subject=f"subject {n}",
        body="body",
        created_at=at,
        visible_at=at,
    )


def feed(
    store: InMemoryNotificationStore | None = None, limits: StreamLimits | None = None
) -> LiveFeed:
    return LiveFeed(store or CountingStore(), poll_seconds=0.05, limits=limits or StreamLimits())


async def test_streams_are_capped_per_person_and_per_process_with_a_retry_after() -> None:
    live = feed(limits=StreamLimits(per_person=2, per_process=3, retry_after_seconds=7))
    mine = [live.subscribe("me"), live.subscribe("me")]
    with pytest.raises(StreamLimitError, match="per person") as refused:
        live.subscribe("me")
    assert refused.value.retry_after_seconds == 7
    live.subscribe("you")
    with pytest.raises(StreamLimitError, match="on this server"):
        live.subscribe("someone else")
    live.unsubscribe(mine[0])  # a closed stream frees its place
    live.subscribe("me")
    assert live.open_streams == 3
    await live.close()
    assert live.open_streams == 0


async def test_all_streams_share_one_query_per_look_and_each_gets_only_its_persons_items() -> None:
    clock = Clock()
    store = CountingStore()
    live = LiveFeed(store, poll_seconds=30, now=clock)  # no periodic look during the test
    people = [f"p{n}" for n in range(5)]
    subs = {p: [live.subscribe(p), live.subscribe(p)] for p in people}
    await asyncio.sleep(0)  # the poller's first look
    store.asked.clear()
    clock.at = T0 + timedelta(seconds=1)
    for n, p in enumerate(people):
        await store.insert(item(p, n, clock.at))
    for p in people:
        live.announce(p)  # five announcements, wake the one poller
    await asyncio.sleep(0.05)
    assert store.asked == [frozenset(people)]  # one query for ten streams
    for n, p in enumerate(people):
        for sub in subs[p]:
            assert [sub.items.get_nowait().id] == [item(p, n, clock.at).id]
            assert sub.items.empty()
    await live.close()


async def test_items_from_other_replicas_arrive_by_the_periodic_look_not_before_the_stream() -> (
    None
):
    store = CountingStore()
    await store.insert(item("me", 0, datetime.now(UTC) - timedelta(minutes=1)))  # before: not sent
    live = feed(store)
    sub = live.subscribe("me")
    frames = inbox_stream(live, sub)
    assert await anext(frames) == ": connected\n\n"
    await store.insert(item("me", 1, datetime.now(UTC)))  # written elsewhere: nobody announces
    frame = await asyncio.wait_for(anext(frames), timeout=2)
    assert "ev-1" in frame and "ev-0" not in frame
    await frames.aclose()
    assert live.open_streams == 0


async def test_an_idle_stream_is_closed_and_frees_its_place() -> None:
    live = feed(limits=StreamLimits(idle_seconds=0.2, per_person=1))
    sub = live.subscribe("me")
    frames = [frame async for frame in inbox_stream(live, sub, heartbeat_seconds=0.05)]
    assert frames[0] == ": connected\n\n" and frames[-1] == ": idle, closing\n\n"
    assert ": keep-alive\n\n" in frames  # heartbeats do not count as activity
    assert live.open_streams == 0
    live.subscribe("me")
    await live.close()


async def test_the_poller_runs_only_while_someone_listens() -> None:
    store = CountingStore()
    live = feed(store)
    await asyncio.sleep(0.15)
    assert store.asked == []
    sub = live.subscribe("me")
    await asyncio.sleep(0.15)
    assert store.asked
    live.unsubscribe(sub)
    await asyncio.sleep(0.06)
    asked = len(store.asked)
    await asyncio.sleep(0.15)
    assert len(store.asked) == asked
