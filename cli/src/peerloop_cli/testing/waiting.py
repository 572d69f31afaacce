"""Waiting in tests: for a condition, and for a service to answer."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import httpx

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]],
    timeout: float = ...,
    *,
    interval: float = ...,
    what: str = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None],
    timeout: float = ...,
    *,
    interval: float = ...,
    what: str = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    timeout: float = 30.0,
    *,
    interval: float = 0.1,
    what: str = "",
) -> Any:
    """Call `check` (plain or async) until it returns something truthy; return that.

    Raises AssertionError after `timeout` seconds, naming `what` (or `check`) and the
    last value, so a failure says what never came true.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(
                f"not true within {timeout}s: {what or check} (last value {value!r})"
            )
        await asyncio.sleep(interval)


async def answers(
    url: str,
    timeout: float = 90.0,
    *,
    alive: Callable[[], bool] = lambda: True,
    status: int = 200,
) -> None:
    """Wait until GET `url` answers `status` (a service's readiness endpoint).

    `alive` says whether the process serving it still runs; once it says no,
    waiting longer is pointless and this fails at once.
    """

    async def ready() -> bool:
        assert alive(), f"the process behind {url} exited"
        try:
            return (await client.get(url, timeout=3)).status_code == status
        except httpx.HTTPError:
            return False

    async with httpx.AsyncClient() as client:
        await eventually(ready, timeout, interval=0.5, what=f"{url} to answer {status}")
