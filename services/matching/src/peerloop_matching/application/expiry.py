"""The expiry sweeper: proposals nobody answered move on to the next helper.

The expiry time is stored on the request, so a restart loses no timer: the
first sweep after it finds every proposal that expired while the service was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS

from peerloop_matching.application.help_requests import HelpRequests

log = logging.getLogger("peerloop.matching.expiry")


class ExpirySweeper:
    def __init__(self, requests: HelpRequests, interval: float) -> None:
        self.requests = requests
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="proposal-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                moved = await self.requests.expire_due()
                if moved:
                    log.info("moved %d expired proposal(s) on", moved)
            except TRANSIENT_STORE_ERRORS as exc:
                log.warning("expiry sweep: store unavailable: %s", exc)
            except Exception:
                log.exception("expiry sweep failed; will try again")
            await asyncio.sleep(self.interval)
