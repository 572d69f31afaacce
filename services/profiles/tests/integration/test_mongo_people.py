"""The person repository on the real store: round trip, version guard, concurrent writers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.profiles import SkillWithdrawn
from peerloop_profiles.adapters.mongo_people import MongoPersonRepository
from peerloop_profiles.application.errors import AlreadyRegistered
from peerloop_profiles.domain.model import (
    LearnedSkill,
    LearningGoal,
    OfferedSkill,
    Person,
    ProfileDetails,
)
from peerloop_runtime.outbox import outbox_entry
from pymongo import AsyncMongoClient

from .conftest import ReadPublished

pytestmark = pytest.mark.integration

ADA = Person(
    person_id="p-ada",
    details=ProfileDetails(
        display_name="Ada",
        email="ada@example.com",
        team="billing",
        manager_id="p-boss",
        location="London",
        time_zone="Europe/London",
        working_hours=WorkingHours(start="08:30", end="16:30", days=[1, 2, 3]),
        languages=("en", "fr"),
    ),
    weekly_capacity=3,
    away_periods=(AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2)),),
    skills_offered=(OfferedSkill(skill_id="python", level=5, description="typing"),),
    learning_goals=(LearningGoal(skill_id="rust", target_level=2),),
    skills_learned=(
        LearnedSkill(
            skill_id="go",
            level=2,
            teacher_id="p-tim",
            session_id="s-1",
            acquired_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        ),
    ),
    sessions_taught=("s-0",),
    version=1,
    sequence=4,
)


@pytest.fixture
async def repo(mongodb_uri: str, mongo_db_name: str) -> AsyncIterator[MongoPersonRepository]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    repository = MongoPersonRepository(client[mongo_db_name].people)
    await repository.ensure_indexes()
    yield repository
    await client.close()


async def test_a_person_round_trips(repo: MongoPersonRepository) -> None:
    await repo.add(ADA, [])
    assert await repo.get("p-ada") == ADA
    assert await repo.get("p-nobody") is None
    with pytest.raises(AlreadyRegistered):
        await repo.add(ADA, [])


async def test_save_is_refused_on_a_stale_version_and_writes_nothing(
    repo: MongoPersonRepository,
) -> None:
    await repo.add(ADA, [])
    withdrawn = ADA.model_copy(update={"skills_offered": (), "version": 2, "sequence": 5})
    entry = outbox_entry(SkillWithdrawn(person_id="p-ada", skill_id="python", sequence=5))
    assert await repo.save(withdrawn, 1, [entry]) is True
    stale = ADA.model_copy(update={"team": "x", "version": 2})
    assert await repo.save(stale, 1, [entry]) is False
    assert await repo.get("p-ada") == withdrawn
    doc = await repo._people.find_one({"_id": "p-ada"})
    assert doc is not None
    assert [e["id"] for e in doc["outbox"]] == [entry.id]


async def test_offering_pages_by_id(repo: MongoPersonRepository) -> None:
    for n in range(5):
        offers = () if n == 3 else (OfferedSkill(skill_id="go", level=n + 1),)
        await repo.add(ADA.model_copy(update={"person_id": f"p-{n}", "skills_offered": offers}), [])
    first = await repo.offering("go", after=None, limit=2)
    rest = await repo.offering("go", after=first[-1].person_id, limit=10)
    assert [p.person_id for p in first + rest] == ["p-0", "p-1", "p-2", "p-4"]


async def test_offering_leaves_out_private_offers(repo: MongoPersonRepository) -> None:
    for n, private in enumerate((False, True)):
        offers = (OfferedSkill(skill_id="rust", level=3, private=private),)
        await repo.add(ADA.model_copy(update={"person_id": f"p-{n}", "skills_offered": offers}), [])
    assert [p.person_id for p in await repo.offering("rust", after=None, limit=10)] == ["p-0"]
    assert (await repo.get("p-1")).skills_offered[0].private is True  # type: ignore[union-attr]


async def test_concurrent_changes_to_one_person_all_land_and_all_publish(
    client: httpx.AsyncClient, read_events: ReadPublished, run_id: str
) -> None:
    pid = f"busy-{run_id}"
    await client.post(
        "/people",
        json={
            "person_id": pid,
            "display_name": "B",
            "email": "b@example.com",
            "team": "t",
            "time_zone": "UTC",
        },
    )
    skills = [f"skill-{n}-{run_id}" for n in range(15)]
    responses = await asyncio.gather(
        *(client.post(f"/people/{pid}/skills", json={"skill": s, "level": 2}) for s in skills)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    body = (await client.get(f"/people/{pid}")).json()
    assert sorted(s["skill_id"] for s in body["skills_offered"]) == sorted(skills)
    assert body["version"] == 16
    published = await read_events(pid, want=17)
    assert [p.sequence for p in published] == list(range(1, 18))
