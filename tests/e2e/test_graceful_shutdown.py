"""SIGTERM: stop taking work, finish what is in flight, flush the outbox, exit in time."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from peerloop_cli.identity import SERVICES, Tokens
from peerloop_cli.infra import stack
from peerloop_cli.infra.process import pid_alive

from .conftest import e2e_deployment, start_fresh_async

pytestmark = pytest.mark.e2e


async def test_sigterm_flushes_the_outbox_and_exits_within_the_grace_period(
    infra: stack.Endpoints, tokens: Tokens, run_id: str
) -> None:
    deployment = e2e_deployment(PEERLOOP_SHUTDOWN_GRACE_SECONDS="10")
    try:
        await start_fresh_async(deployment, infra)
        deployment.start_service("profiles", infra)
        deployment.wait_ready("profiles")
        people = [f"g{i}-{run_id}" for i in range(30)]
        # Provisioned as HR would: the service account may register anyone.
        hr = tokens.as_service(*SERVICES["hr"])
        async with httpx.AsyncClient(
            base_url=deployment.url("profiles"), timeout=30, auth=hr
        ) as http:
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/people",
                        json={
                            "person_id": p,
                            "display_name": p,
                            "email": f"{p}@example.com",
                            "team": "t",
                            "time_zone": "UTC",
                        },
                    )
                    for p in people
                )
            )
        assert all(a.status_code == 201 for a in answers)
        pid = deployment.process("profiles").pid()
        assert pid is not None
        os.kill(pid, signal.SIGTERM)  # right after the writes: their events are still in the outbox
        started = time.monotonic()
        while pid_alive(pid) and time.monotonic() - started < 30:
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        assert not pid_alive(pid), "still running 30 s after SIGTERM"
        assert took < 10 + 2, f"took {took:.1f}s, longer than the 10 s grace period"
        assert "Traceback" not in deployment.process("profiles").log_tail(200)

        consumer = AIOKafkaConsumer(
            "peerloop.profile-registered.v1",
            bootstrap_servers=infra.kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        seen: set[str] = set()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(seen) < len(people):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen |= {r.key.decode() for r in records if r.key and run_id in r.key.decode()}
        finally:
            await consumer.stop()
        assert seen == set(people), f"{len(people) - len(seen)} events were left in the outbox"
    finally:
        deployment.down()
