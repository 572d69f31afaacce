"""The delivery worker's loop: named deliveries first, one idle query at a time, no spinning."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from peerloop_notifications.application.delivery import DeliveryWorker


class SlowQueryStore:
    """A store whose query for due deliveries takes a while and finds nothing."""

    def __init__(self) -> None:
        self.queries = 0
        self.claimed: list[str] = []

    async def claim_next(self, owner: str, now: datetime, lease: timedelta) -> None:
        self.queries += 1
        await asyncio.sleep(0.3)

    async def claim(self, nid: str, owner: str, now: datetime, lease: timedelta) -> None:
        self.claimed.append(nid)


def _worker(store: Any) -> DeliveryWorker:
    return DeliveryWorker(
        store=store,
        people=None,
        senders={},
        concurrency=4,
        poll_seconds=0.2,  # type: ignore[arg-type]
    )


async def test_idle_workers_wait_while_one_queries_instead_of_spinning() -> None:
    store = SlowQueryStore()
    worker = _worker(store)
    cpu, wall = time.process_time(), time.monotonic()
    worker.start()
    await asyncio.sleep(1.2)
    await worker.stop()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    # Spinning workers would burn the CPU for the whole second.
    assert cpu < 0.5 * wall, f"{cpu:.2f}s of CPU in {wall:.2f}s"
    # One query at a time: each takes 0.3 s, then a 0.2 s pause.
    assert 1 <= store.queries <= 3


async def test_named_deliveries_are_tried_before_any_query() -> None:
    store = SlowQueryStore()
    worker = _worker(store)
    for nid in ("a", "b", "c"):
        worker.notify(nid)
    worker.start()
    await asyncio.sleep(0.05)
    await worker.stop()
    assert sorted(store.claimed) == ["a", "b", "c"]
