"""Real infrastructure around the notifications service: SMTP catcher, webhook receiver,
the service itself (in-process lifespan, or under uvicorn for streaming), Kafka helpers,
and tokens from the real identity provider.

Every route is the person's own, so each call says whose it is:
`client.get(f"/people/{me}/inbox", auth=as_person(me))`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from peerloop_cli.identity import BearerAuth, IdentityProvider, Tokens
from peerloop_cli.infra.process import free_port
from peerloop_cli.realm import AUDIENCE
from peerloop_cli.testing.topics import read_records
from peerloop_cli.testing.waiting import eventually as shared_eventually
from peerloop_contracts.base import Event
from peerloop_contracts.profiles import ProfileRegistered
from peerloop_notifications.application.directory import DIRECTORY_EVENTS
from peerloop_notifications.config import Settings
from peerloop_notifications.devtools.mail_catcher import MailCatcher
from peerloop_notifications.domain.routing import NOTIFYING_EVENTS
from peerloop_notifications.entrypoints.http import create_app
from peerloop_runtime.auth import AuthSettings
from peerloop_runtime.kafka import make_broker, publish_entry
from peerloop_runtime.outbound import OutboundSettings
from peerloop_runtime.outbox import OutboxEntry, outbox_entry
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SMTP_PORTS = range(2525, 2531)
WEBHOOK_SECRET = "test-webhook-secret-of-thirty-two-characters"
# Test receivers listen on 127.0.0.1: the operator's dev allow-list lets deliveries reach them.
LOCAL_RECEIVERS = OutboundSettings.model_validate(
    {"allow_networks": ["127.0.0.1/32"], "plain_http_networks": ["127.0.0.1/32"]}
)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_smtp_port() -> int:
    for port in SMTP_PORTS:
        if _port_is_free(port):
            return port
    raise RuntimeError("all SMTP test ports 2525-2530 are taken")


@pytest.fixture
def mail_catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail", port=free_smtp_port()) as catcher:
        yield catcher


@contextlib.asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    """Run an ASGI app under a real uvicorn server on 127.0.0.1:port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@dataclass
class WebhookReceiver:
    url: str
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((await request.body(), dict(request.headers)))
        return JSONResponse({"ok": True})

    from starlette.applications import Starlette

    app = Starlette(routes=[Route("/hook/{name}", hook, methods=["POST"])])
    async with serve(app, free_port()) as base:
        yield WebhookReceiver(url=f"{base}/hook", received=received)


def consumed_topics() -> list[str]:
    return sorted({e.topic() for e in (*DIRECTORY_EVENTS, *NOTIFYING_EVENTS)})


async def _commit_group_offsets(
    bootstrap: str, group_id: str, offsets: dict[TopicPartition, int] | None = None
) -> dict[TopicPartition, int]:
    """Commit offsets for a consumer group before it first joins; by default the
    current ends, so the group reads only what is published from now on."""
    if offsets is None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(consumed_topics())
        finally:
            await admin.close()
        partitions = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
    else:
        partitions = list(offsets)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        if offsets is None:
            offsets = dict(await consumer.end_offsets(partitions))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()
    return offsets


@pytest.fixture
async def start_offsets(kafka_bootstrap: str, run_id: str) -> dict[TopicPartition, int]:
    """Where the test's consumer group starts: the ends of its topics when the test began.

    A new group would otherwise read every topic from the beginning, so each test
    would wade through the whole history of the broker before reaching its own events.
    """
    return await _commit_group_offsets(kafka_bootstrap, f"test-notifications-{run_id}")


@pytest.fixture
def start_group_at(kafka_bootstrap: str) -> Callable[..., Awaitable[Any]]:
    async def commit(group_id: str, offsets: dict[TopicPartition, int]) -> None:
        await _commit_group_offsets(kafka_bootstrap, group_id, offsets)

    return commit


@pytest.fixture
def settings_for(
    kafka_bootstrap: str,
    mongodb_uri: str,
    mongo_db_name: str,
    run_id: str,
    start_offsets: dict[TopicPartition, int],
    identity: IdentityProvider,
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": kafka_bootstrap,
            "mongodb_uri": mongodb_uri,
            "database": mongo_db_name,
            "consumer_group": f"test-notifications-{run_id}",
            "webhook_secret": WEBHOOK_SECRET,
            "outbound": LOCAL_RECEIVERS,
            "smtp_port": 9,  # nothing listens: tests that send mail pass their catcher's port
            "delivery_base_delay_seconds": 0.2,
            "delivery_max_delay_seconds": 1.0,
            "delivery_poll_seconds": 0.2,
            "stream_poll_seconds": 0.5,
            "shutdown_grace_seconds": 10.0,
            "auth": AuthSettings(issuer=identity.issuer, audience=AUDIENCE),
        }
        values.update(overrides)
        return Settings(**values)

    return build


@contextlib.asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The whole service with its real lifespan: consumer, delivery worker, relay."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://notif") as client,
    ):
        yield app, client


class Publisher:
    def __init__(self, bootstrap: str) -> None:
        self.broker = make_broker(bootstrap, client_id="test-notifications-publisher")

    async def event(self, event: Event) -> OutboxEntry:
        entry = outbox_entry(event)
        await publish_entry(self.broker, entry)
        return entry

    async def again(self, entry: OutboxEntry) -> None:
        """The same record once more, same `ce_id`: what a redelivery looks like."""
        await publish_entry(self.broker, entry)

    async def raw(self, topic: str, value: bytes, key: str, headers: dict[str, str]) -> None:
        await self.broker.publish(value, topic=topic, key=key.encode(), headers=headers)


@pytest.fixture
async def publish(kafka_bootstrap: str) -> AsyncIterator[Publisher]:
    publisher = Publisher(kafka_bootstrap)
    await publisher.broker.start()
    try:
        yield publisher
    finally:
        await publisher.broker.stop()


def _person(
    person_id: str, *, name: str, time_zone: str = "UTC", seq: int = 1
) -> ProfileRegistered:
    return ProfileRegistered(
        person_id=person_id,
        display_name=name,
        email=f"{person_id}@example.com",
        team="platform",
        time_zone=time_zone,
        sequence=seq,
    )


@pytest.fixture
def as_person(tokens: Tokens) -> Callable[[str], BearerAuth]:
    """httpx auth acting as a person, with a token from the identity provider."""
    return tokens.as_person


@pytest.fixture
def eventually() -> Callable[..., Awaitable[Any]]:
    return functools.partial(shared_eventually, interval=0.2)


@pytest.fixture
def running() -> Callable[[Settings], contextlib.AbstractAsyncContextManager[Any]]:
    return _running


@pytest.fixture
def person() -> Callable[..., ProfileRegistered]:
    return _person


@pytest.fixture
def read_topic() -> Callable[..., Awaitable[list[Any]]]:
    """Records of a topic (from the start) that `match`; waits for `want`, then a little
    longer so a duplicate would show up too."""
    return functools.partial(read_records, linger=1.5)


@pytest.fixture
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
def smtp_port() -> int:
    """A free SMTP test port with nothing listening on it yet."""
    return free_smtp_port()


@pytest.fixture
def serve_app() -> Callable[[Any, int], contextlib.AbstractAsyncContextManager[str]]:
    return serve


@pytest.fixture
def any_free_port() -> Callable[[], int]:
    return free_port
