"""Watches the flow's topics from their current end: when each request was asked, proposed, told.

Times are the records' CreateTime (stamped by each producer on this machine), so a
latency is the gap between two publishes, free of the observer's own delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from peerloop_contracts.matching import HelpRequested, HelpRequestUnmatched, MatchProposed
from peerloop_contracts.notifications import NotificationDelivered

from bench.platform_ctl import partitions

WATCHED = (HelpRequested, MatchProposed, HelpRequestUnmatched, NotificationDelivered)


@dataclass
class FlowObserver:
    bootstrap: str
    requested_ms: dict[str, int] = field(default_factory=dict)
    requested_created_ms: dict[str, int] = field(default_factory=dict)
    """request id → its help-requested's `ce_time`: when matching decided to publish it."""
    proposed_created_ms: dict[str, int] = field(default_factory=dict)
    proposed_ms: dict[str, int] = field(default_factory=dict)
    proposal_event: dict[str, str] = field(default_factory=dict)
    """request id → ce_id of its first match-proposed."""
    unmatched_ms: dict[str, int] = field(default_factory=dict)
    stored_ms: dict[str, int] = field(default_factory=dict)
    """ce_id of a match-proposed → when its inbox notification's delivery was published."""
    seen_at: dict[str, float] = field(default_factory=dict)
    """request id → wall time the observer saw its notification stored."""

    async def __aenter__(self) -> FlowObserver:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20
        )
        await self._consumer.start()
        assigned = partitions(e.topic() for e in WATCHED)
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:
            await self._consumer.position(tp)  # resolve now, not at the first fetch
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        waiting_for_store: dict[str, str] = {}
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=2000)
            now = time.time()
            for tp, records in batches.items():
                for record in records:
                    self._take(tp.topic, record, waiting_for_store, now)
            for event_id in [e for e in waiting_for_store if e in self.stored_ms]:
                self.seen_at.setdefault(waiting_for_store.pop(event_id), now)

    def _take(self, topic: str, record: object, waiting: dict[str, str], now: float) -> None:
        value = json.loads(record.value)  # type: ignore[attr-defined]
        stamp: int = record.timestamp  # type: ignore[attr-defined]
        if topic == HelpRequested.topic():
            self.requested_ms.setdefault(value["request_id"], stamp)
            self.requested_created_ms.setdefault(value["request_id"], _ce_time_ms(record))
        elif topic == MatchProposed.topic():
            request_id = value["request_id"]
            if request_id not in self.proposed_ms:
                self.proposed_ms[request_id] = stamp
                self.proposed_created_ms[request_id] = _ce_time_ms(record)
                headers = dict(record.headers)  # type: ignore[attr-defined]
                event_id = headers["ce_id"].decode()
                self.proposal_event[request_id] = event_id
                waiting[event_id] = request_id
        elif topic == HelpRequestUnmatched.topic():
            self.unmatched_ms.setdefault(value["request_id"], stamp)
        elif value.get("kind") == "match-proposed" and value.get("channel") == "inbox":
            self.stored_ms.setdefault(value["source_event_id"], stamp)

    def settled(self, request_ids: list[str]) -> int:
        """Requests whose flow ended: proposed and its notification stored, or unmatched."""
        return sum(1 for r in request_ids if r in self.seen_at or r in self.unmatched_ms)

    async def wait_settled(self, request_ids: list[str], within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.settled(request_ids) >= len(request_ids):
                return True
            await asyncio.sleep(0.05)
        return False


def _ce_time_ms(record: object) -> int:
    headers = dict(record.headers)  # type: ignore[attr-defined]
    created = datetime.fromisoformat(headers["ce_time"].decode().replace("Z", "+00:00"))
    return round(created.timestamp() * 1000)
