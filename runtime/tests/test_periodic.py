"""A periodic step survives its failures and stops when told."""

from __future__ import annotations

import asyncio
import logging

import pytest
from peerloop_runtime.periodic import Periodic
from pymongo.errors import ServerSelectionTimeoutError

log = logging.getLogger("test.periodic")


async def test_a_failing_step_is_logged_and_run_again(caplog: pytest.LogCaptureFixture) -> None:
    outcomes: list[BaseException | str | None] = [
        ServerSelectionTimeoutError("no store"),
        ValueError("a bug"),
        "did 3 things",
        None,
    ]
    ran = asyncio.Event()
    calls = 0

    async def step() -> str | None:
        nonlocal calls
        calls += 1
        outcome = outcomes[min(calls, len(outcomes)) - 1]
        if calls >= len(outcomes):
            ran.set()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    periodic = Periodic("sweep", 0.001, step, log)
    with caplog.at_level(logging.INFO, logger="test.periodic"):
        periodic.start()
        await asyncio.wait_for(ran.wait(), 5)
        await periodic.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert "sweep: store unavailable: no store" in messages
    assert "sweep failed; will try again" in messages
    assert "sweep: did 3 things" in messages
    stopped_at = calls
    await asyncio.sleep(0.02)
    assert calls == stopped_at  # stopped means stopped


async def test_a_follower_waits_one_interval_before_its_first_pass() -> None:
    calls = 0

    async def step() -> str | None:
        nonlocal calls
        calls += 1
        return None

    periodic = Periodic("follow", 60, step, log, first_after_interval=True)
    periodic.start()
    await asyncio.sleep(0.02)
    await periodic.stop()
    assert calls == 0
    await periodic.run_once()
    assert calls == 1
