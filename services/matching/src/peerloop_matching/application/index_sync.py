"""Keeps the in-memory skill index in step with the `candidates` collection.

Each replica consumes only some partitions of the profile topics, so its own
handlers do not see every change: the index is rebuilt from the store at start
and then follows the store by an `updated_at` watermark. The watermark is moved
back by a margin on every pass, so a write that committed late, or with a
slightly different clock on another replica, is still picked up (re-applying
one is harmless).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from peerloop_runtime.periodic import Periodic

from peerloop_matching.application.ports import CandidateRepository
from peerloop_matching.domain.candidate import Candidate
from peerloop_matching.domain.skill_index import SkillIndex

log = logging.getLogger("peerloop.matching.index")

OVERLAP = timedelta(seconds=2)


class IndexSync:
    def __init__(self, store: CandidateRepository, index: SkillIndex) -> None:
        self.store = store
        self.index = index
        self._watermark: datetime | None = None

    async def refresh(self) -> int:
        """Apply every change since the watermark (everything, the first time)."""
        since = None if self._watermark is None else self._watermark - OVERLAP
        applied = 0
        async for person_id, candidate, updated_at in self.store.changed_since(since):
            if candidate is None:
                self.index.remove(person_id)
            else:
                self.index.put(candidate)
            if self._watermark is None or updated_at > self._watermark:
                self._watermark = updated_at
            applied += 1
        return applied

    def put(self, candidate: Candidate | None) -> None:
        """A write made here: visible to the next match without waiting for a refresh."""
        if candidate is not None:
            self.index.put(candidate)


def index_follower(sync: IndexSync, interval: float) -> Periodic:
    """Refreshes the index from the store every `interval` (it was whole at start)."""

    async def refresh() -> str | None:
        await sync.refresh()
        return None

    return Periodic("skill-index-sync", interval, refresh, log, first_after_interval=True)
