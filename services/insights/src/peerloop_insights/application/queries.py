"""The figures, from the facts folded in memory and refreshed from the log now and then."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peerloop_insights.application.ports import FactLog, Pseudonyms
from peerloop_insights.domain.facts import Facts
from peerloop_insights.domain.figures import Report, Window, report, teams

# Deltas written by another replica may commit a little out of order: reread this far back
# (merging the same delta twice changes nothing).
REREAD = timedelta(seconds=30)


@dataclass
class InsightsQueries:
    log: FactLog
    pseudonyms: Pseudonyms
    k: int
    refresh_seconds: float = 2.0
    _facts: Facts = field(default_factory=Facts)
    _erased: set[str] = field(default_factory=set)
    _newest: datetime | None = None
    _refreshed: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _readable: Facts | None = None
    """The facts without erased people, made once per refresh that changed anything."""

    async def refresh(self, *, force: bool = False) -> None:
        async with self._lock:
            if not force and time.monotonic() - self._refreshed < self.refresh_seconds:
                return
            since = self._newest - REREAD if self._newest else None
            deltas, newest = await self.log.read(since)
            for delta in deltas:
                self._facts.merge(delta)
            self._newest = newest or self._newest
            erased = await self.pseudonyms.erased_tokens()
            if deltas or erased != self._erased or self._readable is None:
                self._readable = self._facts.without(erased)
            self._erased = erased
            self._refreshed = time.monotonic()

    def _current(self) -> Facts:
        assert self._readable is not None, "refresh() first"
        return self._readable

    async def figures(
        self, *, window: Window, team: str | None, now: datetime | None = None
    ) -> Report:
        await self.refresh()
        return report(
            self._current(), window=window, team=team, k=self.k, now=now or datetime.now(UTC)
        )

    async def teams(self) -> list[str]:
        await self.refresh()
        return teams(self._current(), self.k)
