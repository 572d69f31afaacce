"""Ingesting events with the in-memory stores: redelivery, any order, erasure, replay."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from peerloop_contracts import profiles
from peerloop_insights.adapters.memory_facts import MemoryFactLog, MemoryPseudonyms
from peerloop_insights.application.ingest import Ingest
from peerloop_insights.application.queries import InsightsQueries
from peerloop_insights.devtools.history import History, meta_of

NOW = datetime(2026, 12, 15, tzinfo=UTC)


def graph() -> tuple[Ingest, InsightsQueries, MemoryFactLog, MemoryPseudonyms]:
    log, names = MemoryFactLog(), MemoryPseudonyms()
    return Ingest(log, names), InsightsQueries(log, names, k=5, refresh_seconds=0), log, names


async def figures(queries: InsightsQueries, window: str = "all"):
    await queries.refresh(force=True)
    return await queries.figures(window=window, team=None, now=NOW)  # type: ignore[arg-type]


async def test_a_redelivered_and_shuffled_history_gives_the_live_figures():
    items = list(History(people=120, erase_every=10).events(4000))
    live, live_q, _, _ = graph()
    for start in range(0, len(items), 7):  # small batches, in order, like a live run
        await live.handle_batch(items[start : start + 7])
    replay, replay_q, _, _ = graph()
    shuffled = items * 2  # every event twice
    random.Random(3).shuffle(shuffled)
    for start in range(0, len(shuffled), 500):
        await replay.handle_batch(shuffled[start : start + 500])
    for window in ("7d", "30d", "90d", "all"):
        assert await figures(live_q, window) == await figures(replay_q, window)
    report = await figures(live_q)
    assert report.outcomes.completed.value and report.outcomes.completed.value > 100
    assert report.flows and report.skills


async def test_an_erased_person_leaves_no_id_and_their_facts_no_identity():
    ingest, queries, log, names = graph()
    items = list(History(people=40).events(600))
    await ingest.handle_batch(items)
    before = await figures(queries)
    erased = profiles.ProfileErased(person_id="p-3", sequence=99)
    await ingest.handle(erased, meta_of(erased, NOW))
    assert "p-3" not in names.by_person
    assert "p-3" not in repr(log.deltas)
    after = await figures(queries)
    assert after.outcomes.completed.value == before.outcomes.completed.value  # counts stay
    # A late event about them is recorded under the placeholder, not a new person.
    late = profiles.SkillOffered(
        person_id="p-3", skill_id="go", skill_name="Go", level=3, weekly_capacity=1, sequence=100
    )
    await ingest.handle(late, meta_of(late, NOW))
    assert "p-3" not in names.by_person
