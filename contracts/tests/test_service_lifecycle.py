"""The runtime starts hooks, infrastructure and workers in one order and stops them in reverse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import ProfileErased, ProfileUpdated
from peerloop_runtime.kafka import RetryPolicy
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS
from peerloop_runtime.service import Background, ServiceRuntime
from peerloop_runtime.settings import ServiceSettings


class Steps:
    """What ran, in order; the runtime's own infrastructure is replaced by two recorded steps."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.ran: list[str] = []

        async def start_infrastructure() -> None:
            self.ran.append("infrastructure up")

        async def stop_infrastructure() -> None:
            self.ran.append("infrastructure down")

        runtime.start_infrastructure = start_infrastructure  # type: ignore[method-assign]
        runtime.stop_infrastructure = stop_infrastructure  # type: ignore[method-assign]

    def hook(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.ran.append(name)

        return run


class FakeWorker:
    def __init__(self, name: str, steps: Steps, *, stop_takes: float = 0.0) -> None:
        self.name = name
        self.steps = steps
        self.stop_takes = stop_takes

    def start(self) -> None:
        self.steps.ran.append(f"{self.name} started")

    async def stop(self) -> None:
        await asyncio.sleep(self.stop_takes)
        self.steps.ran.append(f"{self.name} stopped")


def _runtime(grace: float = 5.0) -> tuple[ServiceRuntime, Steps]:
    runtime = ServiceRuntime(
        name="probe",
        settings=ServiceSettings(
            mongodb_uri="mongodb://127.0.0.1:1/", shutdown_grace_seconds=grace
        ),
    )
    return runtime, Steps(runtime)


async def test_hooks_run_before_the_infrastructure_and_workers_start_after_it() -> None:
    runtime, steps = _runtime()
    runtime.on_start(steps.hook("indexes"))
    runtime.on_start(steps.hook("warm-up"))
    runtime.add_worker(FakeWorker("sync", steps))
    runtime.add_worker(FakeWorker("sweeper", steps))

    await runtime.start()

    assert steps.ran == [
        "indexes",
        "warm-up",
        "infrastructure up",
        "sync started",
        "sweeper started",
    ]
    assert runtime.started


async def test_workers_stop_last_first_before_the_infrastructure_then_the_stop_hooks() -> None:
    runtime, steps = _runtime()
    runtime.add_worker(FakeWorker("sync", steps))
    runtime.add_worker(FakeWorker("sweeper", steps))
    runtime.on_stop(steps.hook("http client closed"))
    await runtime.start()
    steps.ran.clear()

    await runtime.stop()

    assert steps.ran == [
        "sweeper stopped",
        "sync stopped",
        "infrastructure down",
        "http client closed",
    ]
    assert not runtime.started


async def test_a_failing_start_hook_starts_nothing_after_it() -> None:
    runtime, steps = _runtime()

    async def broken() -> None:
        raise RuntimeError("index build refused")

    runtime.on_start(broken)
    runtime.add_worker(FakeWorker("worker", steps))

    with pytest.raises(RuntimeError, match="index build refused"):
        await runtime.start()
    assert steps.ran == []
    assert not runtime.started


async def test_the_lifespan_starts_then_stops_within_the_shutdown_grace() -> None:
    runtime, steps = _runtime(grace=0.2)
    runtime.add_worker(FakeWorker("stuck", steps, stop_takes=5.0))

    with pytest.raises(TimeoutError):
        async with runtime.lifespan(FastAPI()):
            assert steps.ran == ["infrastructure up", "stuck started"]
    assert "stuck stopped" not in steps.ran


async def test_background_adapts_a_worker_whose_start_and_stop_take_arguments() -> None:
    runtime, _ = _runtime()
    seen: list[str] = []

    async def stop_with_grace(grace: float) -> None:
        seen.append(f"stop grace={grace}")

    runtime.add_worker(
        Background(start=lambda: seen.append("start every=3"), stop=lambda: stop_with_grace(2.5))
    )
    await runtime.start()
    await runtime.stop()

    assert seen == ["start every=3", "stop grace=2.5"]


async def test_consumers_join_the_service_group_or_a_named_one_and_retry_store_outages() -> None:
    runtime, _ = _runtime()

    async def on_event(_event: ProfileUpdated | ProfileErased, _meta: CloudEventMeta) -> None:
        return None

    main = runtime.add_consumer({ProfileUpdated: on_event})
    extra = runtime.add_consumer(
        {ProfileErased: on_event}, group="erasures", retry=RetryPolicy(max_attempts=2)
    )

    assert runtime.consumers == [main, extra]
    assert main.group_id == "peerloop-probe"
    assert extra.group_id == "peerloop-probe.erasures"
    assert main.retry.transient == TRANSIENT_STORE_ERRORS
    assert extra.retry.max_attempts == 2
    assert not main.batch
