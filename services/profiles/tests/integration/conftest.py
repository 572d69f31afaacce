"""The profiles app on the real broker, store and identity provider, and a reader for
what it published.

`client` calls as HR provisioning (the `peerloop-hr` service account, which manages
everyone): most tests here are about what the service does, not who may ask. Tests
about who may do what pass `auth=tokens.as_person(...)` per call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from peerloop_cli.identity import SERVICES, BearerAuth, IdentityProvider, Tokens
from peerloop_cli.realm import AUDIENCE
from peerloop_contracts.profiles import EVENTS
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app
from peerloop_runtime.auth import AuthSettings

PROFILE_TOPICS = sorted({e.topic() for e in EVENTS})


@dataclass(frozen=True)
class Published:
    topic: str
    key: str
    headers: dict[str, str]
    body: dict[str, Any]
    offset: int
    partition: int

    @property
    def ce_id(self) -> str:
        return self.headers["ce_id"]

    @property
    def sequence(self) -> int:
        return int(self.body["sequence"])


ReadPublished = Callable[..., Awaitable[list[Published]]]


@pytest.fixture
def settings(
    kafka_bootstrap: str,
    mongodb_uri: str,
    mongo_db_name: str,
    run_id: str,
    identity: IdentityProvider,
) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        database=mongo_db_name,
        consumer_group=f"test-{run_id}",
        shutdown_grace_seconds=15,
        auth=AuthSettings(issuer=identity.issuer, audience=AUDIENCE),
    )


@pytest.fixture
def hr(tokens: Tokens) -> BearerAuth:
    """Tokens of HR provisioning: a service account with `profiles:provision`."""
    return tokens.as_service(*SERVICES["hr"])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        yield application


@pytest.fixture
async def client(app: FastAPI, hr: BearerAuth) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://profiles", auth=hr) as http:
        yield http


async def read_published(
    bootstrap: str,
    match: str,
    *,
    want: int,
    topics: list[str] | None = None,
    timeout: float = 30.0,
    quiet: float = 2.0,
) -> list[Published]:
    """Records whose key contains `match`, from the start of `topics`.

    Reads until `want` records arrived, then `quiet` seconds more so a duplicate or
    an unexpected event has the chance to show up. Sorted by (key, sequence).
    """
    consumer = AIOKafkaConsumer(
        *(topics or PROFILE_TOPICS),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Published] = []
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout
        quiet_until: float | None = None
        while loop.time() < (quiet_until or deadline):
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for r in records:
                    key = r.key.decode() if r.key else ""
                    if match not in key:
                        continue
                    found.append(
                        Published(
                            topic=r.topic,
                            key=key,
                            headers={k: v.decode() for k, v in r.headers},
                            body=_json_or_empty(r.value),
                            offset=r.offset,
                            partition=r.partition,
                        )
                    )
            if quiet_until is None and len(found) >= want:
                quiet_until = loop.time() + quiet
    finally:
        await consumer.stop()
    return sorted(found, key=lambda p: (p.key, p.body.get("sequence", 0), p.topic))


def _json_or_empty(value: bytes | None) -> dict[str, Any]:
    """Dead letters may hold anything; an unparseable body reads as `{}`."""
    try:
        parsed = json.loads(value or b"")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@pytest.fixture
def read_events(kafka_bootstrap: str) -> ReadPublished:
    async def read(match: str, **kwargs: Any) -> list[Published]:
        return await read_published(kafka_bootstrap, match, **kwargs)

    return read
