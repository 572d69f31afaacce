"""A step run again and again on a timer: the shape of every sweeper and follower.

A failing step never ends the loop: a store outage is a warning, anything else is
logged with its traceback, and the step runs again after the interval. A restart
loses nothing, because what a step acts on (an expiry time, a watermark) is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS

Step = Callable[[], Awaitable[str | None]]
"""One pass; what it returns, when anything, is logged as what the pass did."""


class Periodic:
    """`step` every `interval` seconds from `start()` until `stop()` (a worker of the runtime)."""

    def __init__(
        self,
        name: str,
        interval: float,
        step: Step,
        log: logging.Logger,
        *,
        first_after_interval: bool = False,
    ) -> None:
        self.name = name
        self.interval = interval
        self.step = step
        self.log = log
        self.first_after_interval = first_after_interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        """One pass with the loop's error handling."""
        try:
            done = await self.step()
            if done:
                self.log.info("%s: %s", self.name, done)
        except TRANSIENT_STORE_ERRORS as exc:
            self.log.warning("%s: store unavailable: %s", self.name, exc)
        except Exception:
            self.log.exception("%s failed; will try again", self.name)

    async def _run(self) -> None:
        if self.first_after_interval:
            await asyncio.sleep(self.interval)
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval)
