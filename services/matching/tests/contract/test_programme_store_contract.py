"""The programme and pairing-block stores: the in-memory twins behave as the real ones.

Same assertions against both (the real side is `integration`): a programme round-trips
whole (dates, pairs, breakdowns, pins), a save checks the version, blocks are
idempotent, found from either side and forgotten on erasure.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from peerloop_contracts.matching import ScoreComponent
from peerloop_matching.adapters.memory_pairing_blocks import InMemoryPairingBlocks
from peerloop_matching.adapters.memory_programmes import InMemoryProgrammes
from peerloop_matching.adapters.pairing_block_store import PairingBlockStore
from peerloop_matching.adapters.programme_store import ProgrammeStore
from peerloop_matching.application.ports import PairingBlockRepository, ProgrammeRepository
from peerloop_matching.domain.programmes.programme import PlannedPair, Programme
from pymongo import AsyncMongoClient

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("mongo", id="mongo", marks=pytest.mark.integration),
]


@pytest.fixture(params=STORES)
async def stores(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[ProgrammeRepository, PairingBlockRepository]]:
    if request.param == "memory":
        yield InMemoryProgrammes(), InMemoryPairingBlocks()
        return
    uri: str = request.getfixturevalue("mongodb_uri")
    db = f"t_{uuid.uuid4().hex[:12]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        blocks = PairingBlockStore(client[db]["pairing_blocks"])
        await blocks.ensure_indexes()
        yield ProgrammeStore(client[db]["programmes"]), blocks
    finally:
        await client.drop_database(db)
        await client.close()


def _programme() -> Programme:
    programme, _ = Programme.create(
        programme_id=f"pg-{uuid.uuid4().hex[:8]}",
        name="Kafka circle",
        goal_skills=["kafka"],
        cohort=["lea", "tom"],
        capacity=2,
        starts_on=date(2027, 1, 4),
        ends_on=date(2027, 3, 31),
        created_by="admin",
        created_at=NOW,
    )
    return programme


async def test_a_programme_round_trips_and_a_save_checks_the_version(
    stores: tuple[ProgrammeRepository, PairingBlockRepository],
) -> None:
    store, _ = stores
    programme = _programme()
    events = programme.adjust("pin", mentee_id="lea", mentor_id="ann")
    await store.insert(programme, events)
    programme.pairs = [
        PlannedPair(
            mentee_id="lea",
            mentor_id="ann",
            skill_id="kafka",
            score=0.7,
            breakdown=[
                ScoreComponent(
                    name="skill_fit", weight=0.3, value=1, contribution=0.3, explanation="x"
                )
            ],
            pinned=True,
        )
    ]
    stale = await store.load(programme.programme_id)
    assert stale is not None
    assert await store.save(programme, programme.close())
    assert not await store.save(stale, stale.close())  # someone saved first

    loaded = await store.load(programme.programme_id)
    assert loaded is not None
    assert loaded == programme
    assert loaded.pins == [("lea", "ann")] and loaded.starts_on == date(2027, 1, 4)
    assert loaded.version == 1 and loaded.state == "closed"


async def test_blocks_are_idempotent_found_from_either_side_and_forgotten(
    stores: tuple[ProgrammeRepository, PairingBlockRepository],
) -> None:
    _, blocks = stores
    await blocks.add("lea", "tom", NOW)
    await blocks.add("lea", "tom", NOW)
    await blocks.add("lea", "ann", NOW)
    await blocks.add("bob", "lea", NOW)
    assert await blocks.asked_by("lea") == ["ann", "tom"]
    assert sorted(await blocks.pairs_involving(["tom"])) == [("lea", "tom")]
    assert len(await blocks.pairs_involving(["lea", "bob"])) == 3
    await blocks.forget("lea")
    assert await blocks.pairs_involving(["lea", "tom", "ann", "bob"]) == []
