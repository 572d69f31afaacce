"""The Mongo calendar store on the real store: revision guard, a person's sessions, feeds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_notifications.adapters.calendar_store import CalendarStore
from peerloop_notifications.domain.calendar import CalendarSession
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def booked(session_id: str, learner: str, teacher: str, days: int = 0) -> CalendarSession:
    return CalendarSession(
        session_id, "r-1", "MongoDB", START + timedelta(days=days), 45, learner, teacher, 0
    )


@pytest.fixture
async def store(mongodb_uri: str, run_id: str):
    client: AsyncMongoClient = AsyncMongoClient(mongodb_uri, tz_aware=True)
    db = client[f"t_calendar_{run_id}"]
    built = CalendarStore(db["calendar_sessions"], db["calendar_feeds"])
    await built.ensure_indexes()
    yield built
    await client.drop_database(db.name)
    await client.close()


async def test_only_a_higher_revision_replaces_a_session(store: CalendarStore):
    first = booked("s-1", "lea", "tom")
    assert await store.put(first) is True
    assert await store.put(first) is False  # redelivered
    moved = replace(first, starts_at=START + timedelta(days=1), revision=1)
    cancelled = replace(moved, revision=2, cancelled=True)
    assert await store.put(cancelled) is True
    assert await store.put(moved) is False  # late, from another topic
    assert await store.get("s-1") == cancelled


async def test_a_persons_sessions_are_theirs_only_latest_first(store: CalendarStore):
    await store.put(booked("s-1", "lea", "tom"))
    await store.put(booked("s-2", "tom", "ada", days=2))
    await store.put(booked("s-3", "ada", "bo", days=1))
    assert [s.session_id for s in await store.sessions_of("tom", limit=10)] == ["s-2", "s-1"]
    assert [s.session_id for s in await store.sessions_of("tom", limit=1)] == ["s-2"]
    assert await store.sessions_of("nobody", limit=10) == []


async def test_a_feed_leads_to_one_person_until_replaced_or_revoked(store: CalendarStore):
    await store.set_feed("tom", "d1")
    assert await store.feed_owner("d1") == "tom"
    await store.set_feed("tom", "d2")
    assert await store.feed_owner("d1") is None
    assert await store.feed_owner("d2") == "tom"
    assert await store.revoke_feed("tom") is True
    assert await store.feed_owner("d2") is None
    assert await store.revoke_feed("tom") is False
