"""On the real broker and store: a live run applying the history as it is published, a
redelivery of all of it, and a fresh replay in big batches all give the same figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from peerloop_cli.testing.waiting import eventually
from peerloop_insights.bootstrap import InsightsService
from peerloop_insights.devtools.history import History

from .conftest import publish, running, start_group_at, topic_ends

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 20, tzinfo=UTC)
WINDOWS = ("7d", "30d", "90d", "all")


async def consumed(service: InsightsService, count: int) -> None:
    async def done() -> bool:
        return service.consumer.stats.consumed >= count

    await eventually(done, timeout=120, what=f"{count} records consumed")


async def figures(service: InsightsService) -> dict[str, object]:
    await service.queries.refresh(force=True)
    return {w: await service.queries.figures(window=w, team=None, now=NOW) for w in WINDOWS}  # type: ignore[arg-type]


async def test_live_redelivered_and_replayed_figures_are_the_same(
    kafka_bootstrap, mongo_db_name, run_id, insights_settings
):
    items = list(History(people=150, erase_every=15, seed=11).events(4000))
    start = await topic_ends(kafka_bootstrap)
    for group in ("live", "replay"):
        await start_group_at(kafka_bootstrap, f"test-insights-{run_id}-{group}", start)

    live_settings = insights_settings(
        f"{mongo_db_name}_live", f"test-insights-{run_id}-live", batch_records=50
    )
    async with running(live_settings) as live:
        for begin in range(0, len(items), 400):  # published while the service consumes
            await publish(kafka_bootstrap, items[begin : begin + 400])
            await asyncio.sleep(0.2)
        await consumed(live, len(items))
        assert live.consumer.stats.dead_lettered == 0
        live_figures = await figures(live)

    # Redelivery: the same group rewound to the start applies everything again.
    await start_group_at(kafka_bootstrap, f"test-insights-{run_id}-live", start)
    async with running(live_settings) as again:
        await consumed(again, len(items))
        assert await figures(again) == live_figures

    replay_settings = insights_settings(
        f"{mongo_db_name}_replay", f"test-insights-{run_id}-replay", batch_records=1000
    )
    async with running(replay_settings) as replay:
        await consumed(replay, len(items))
        assert await figures(replay) == live_figures

    report = live_figures["all"]
    assert report.outcomes.completed.value > 200  # type: ignore[attr-defined]
    assert report.flows and report.skills  # type: ignore[attr-defined]
