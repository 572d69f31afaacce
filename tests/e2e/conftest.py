"""The three services as separate processes, on the session's real Kafka and store."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from peerloop_cli.identity import IdentityProvider, Tokens
from peerloop_cli.infra import stack
from peerloop_cli.infra.process import free_port
from peerloop_cli.loop_client import PeerloopClient
from peerloop_cli.platform import SERVICE_NAMES, Deployment
from peerloop_cli.testing.groups import start_groups_at_end


async def start_fresh_async(deployment: Deployment, infra: stack.Endpoints) -> None:
    """The deployment's new consumer groups start at the topics' current ends."""
    groups = [
        f"{deployment.group_prefix}{svc}{suffix}"
        for svc in SERVICE_NAMES
        for suffix in ("", ".candidates", ".requests")
    ]
    await start_groups_at_end(infra.kafka_bootstrap, groups)


def start_fresh(deployment: Deployment, infra: stack.Endpoints) -> None:
    asyncio.run(start_fresh_async(deployment, infra))


REPLICAS = int(os.environ.get("PEERLOOP_E2E_REPLICAS", "2"))
"""Processes per service (default two of each, sharing database and consumer group, as a
scaled deployment runs them; clients talk to the first; `PEERLOOP_E2E_REPLICAS=1` for one)."""


def e2e_deployment(**extra_env: str) -> Deployment:
    tag = uuid.uuid4().hex[:8]
    return Deployment(
        prefix=f"e2e-{tag}",
        ports={name: free_port() for name in SERVICE_NAMES},
        replica_ports={
            name: tuple(free_port() for _ in range(REPLICAS - 1)) for name in SERVICE_NAMES
        },
        smtp_port=free_port(),
        web_port=None,
        database_prefix=f"e2e_{tag}_",
        group_prefix=f"e2e-{tag}-",
        extra_env={
            "PEERLOOP_PROPOSAL_TTL_SECONDS": "3600",
            "PEERLOOP_DELIVERY_BASE_DELAY_SECONDS": "0.5",
            **extra_env,
        },
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault tests last: they restart the shared broker and store under load.

    Their own deployment is built to live through that; the other tests' session
    deployment then needs a while to catch up (a consumer stalled by a store restart is
    only replaced after Kafka's max-poll interval), and a test running in that window
    measures the recovery of something it does not test.
    """
    faults = [item for item in items if item.path.name == "test_faults.py"]
    if faults:
        items[:] = [item for item in items if item.path.name != "test_faults.py"] + faults


@pytest.fixture(scope="session")
def deployment(infra: stack.Endpoints, identity: IdentityProvider) -> Iterator[Deployment]:
    # Spans go to each process's log, so a test can follow one trace across services.
    deployment = e2e_deployment(OTEL_TRACES_EXPORTER="console")
    try:
        start_fresh(deployment, infra)
        deployment.up(infra)
        yield deployment
    finally:
        deployment.down()


@pytest.fixture
async def client(deployment: Deployment, tokens: Tokens) -> AsyncIterator[PeerloopClient]:
    client = PeerloopClient(
        deployment.url("profiles"),
        deployment.url("matching"),
        deployment.url("notifications"),
        tokens,
    )
    yield client
    await client.close()
