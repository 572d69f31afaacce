"""The waiting sweeper: ends waits that are over and tries waiting requests again.

Both times are stored on the request, so a restart loses no timer. People who
appear or change wake the requests they could help at once (`CandidateProjection`);
this sweep covers what comes back without an event: a new week's capacity, a lapsed
hold, the day someone's away period ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS

from peerloop_matching.application.help_requests import HelpRequests

log = logging.getLogger("peerloop.matching.waiting")


class WaitingSweeper:
    def __init__(self, requests: HelpRequests, interval: float) -> None:
        self.requests = requests
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="waiting-requests")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sweep(self) -> tuple[int, int]:
        """(waits ended, requests proposed) in one pass."""
        ended = await self.requests.end_waits_due()
        proposed = await self.requests.recheck_waiting()
        return ended, proposed

    async def _run(self) -> None:
        while True:
            try:
                ended, proposed = await self.sweep()
                if ended or proposed:
                    log.info("waiting requests: %d ended, %d proposed", ended, proposed)
            except TRANSIENT_STORE_ERRORS as exc:
                log.warning("waiting sweep: store unavailable: %s", exc)
            except Exception:
                log.exception("waiting sweep failed; will try again")
            await asyncio.sleep(self.interval)
