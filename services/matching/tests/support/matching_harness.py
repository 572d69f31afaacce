"""Helpers for the matching integration tests: a running service, profile events, topic reads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from peerloop_cli.identity import IdentityProvider
from peerloop_cli.realm import AUDIENCE
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_cli.testing.topics import read_records
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts.base import Event
from peerloop_contracts.catalogue import BY_CE_TYPE
from peerloop_contracts.matching import EVENTS as MATCHING_EVENTS
from peerloop_contracts.profiles import ProfileRegistered, SkillOffered
from peerloop_matching.config import Settings
from peerloop_matching.entrypoints.http import create_app
from peerloop_runtime.auth import AuthSettings
from peerloop_runtime.kafka import make_broker, publish_entry
from peerloop_runtime.outbox import outbox_entry
from pymongo import AsyncMongoClient


def settings_for(kafka: str, mongo: str, db: str, run_id: str, **overrides: Any) -> Settings:
    overrides.setdefault("requester_wait_seconds", 2.0)
    # A request nobody can take ends unmatched at once unless a test lets it wait.
    overrides.setdefault("max_wait_seconds", 0)
    # The identity provider of the test session (the `identity` fixture starts it).
    overrides.setdefault(
        "auth", AuthSettings(issuer=IdentityProvider.from_env().issuer, audience=AUDIENCE)
    )
    return Settings(
        kafka_bootstrap_servers=kafka,
        mongodb_uri=mongo,
        database=db,
        consumer_group=f"test-{run_id}",
        shutdown_grace_seconds=15,
        **overrides,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The real app with its real lifespan (store, broker, consumers, relay, sweeper)."""
    group = settings.consumer_group
    await start_groups_at_end(
        settings.kafka_bootstrap_servers, [f"{group}.candidates", f"{group}.requests"]
    )
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://matching") as http,
    ):
        yield http, app.state.service


async def publish(kafka: str, events: Sequence[Event]) -> None:
    """Publish as the profiles service would: one outbox entry per event."""
    broker = make_broker(kafka, client_id="test-profiles")
    await broker.connect()
    try:
        for event in events:
            await publish_entry(broker, outbox_entry(event))
    finally:
        await broker.stop()


def person_events(
    person_id: str,
    *,
    team: str,
    skill: str | None = None,
    level: int = 4,
    capacity: int = 2,
    time_zone: str = "UTC",
) -> list[Event]:
    events: list[Event] = [
        ProfileRegistered(
            person_id=person_id,
            display_name=person_id,
            email=f"{person_id}@example.com",
            team=team,
            time_zone=time_zone,
            sequence=1,
        )
    ]
    if skill:
        events.append(
            SkillOffered(
                person_id=person_id,
                skill_id=skill,
                skill_name=skill,
                level=level,
                weekly_capacity=capacity,
                sequence=2,
            )
        )
    return events


async def candidates_known(
    mongo: str, db: str, people: Sequence[str], offering: Sequence[str] = (), timeout: float = 30.0
) -> None:
    """Wait until matching's read model has each person's profile and every offer published."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    try:

        async def all_there() -> bool:
            found = await client[db].candidates.count_documents(
                {"_id": {"$in": list(people)}, "profile": {"$exists": True}}
            )
            offers = await client[db].candidates.count_documents(
                {"_id": {"$in": list(offering)}, "skills": {"$exists": True}}
            )
            return found == len(people) and offers == len(offering)

        await eventually(all_there, timeout)
    finally:
        await client.close()


async def request_events(
    kafka: str, request_id: str, want: int, timeout: float = 30.0, settle: float = 1.5
) -> list[tuple[Event, dict[str, str]]]:
    """Every matching event keyed by `request_id`, ordered by sequence, with its headers.

    A re-publish of the same outbox entry (same `ce_id`) is kept once, as a consumer
    deduping by `ce_id` would; `republished` counts them for the tests that care.
    """
    records = await read_records(
        kafka,
        sorted({e.topic() for e in MATCHING_EVENTS}),
        match=lambda r: r.key is not None and r.key.decode() == request_id,
        want=want,
        within=timeout,
        linger=settle,
        distinct=lambda r: dict(r.headers)["ce_id"],
    )
    found: list[tuple[Event, dict[str, str]]] = []
    for r in records:
        headers = {k: v.decode() for k, v in r.headers}
        found.append((BY_CE_TYPE[headers["ce_type"]].decode(r.value), headers))
    return sorted(found, key=lambda item: item[0].sequence)


async def read_dlq(kafka: str, topic: str, key: str, timeout: float = 30.0) -> list[Any]:
    return await read_records(
        kafka,
        topic,
        match=lambda r: r.key is not None and r.key.decode() == key,
        want=1,
        within=timeout,
    )
