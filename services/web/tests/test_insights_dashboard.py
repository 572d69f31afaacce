"""The insights dashboard over a stand-in insights service: charts, tables, refusals, CSV."""

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import altair as alt
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi.encoders import jsonable_encoder
from peerloop_insights.adapters.memory_facts import MemoryFactLog, MemoryPseudonyms
from peerloop_insights.application.ingest import Ingest
from peerloop_insights.application.queries import InsightsQueries
from peerloop_insights.devtools.history import History
from peerloop_web import insights_charts
from peerloop_web.app import create_app
from peerloop_web.context import AppState
from peerloop_web.sessions import Login
from peerloop_web.settings import Settings


async def _report() -> dict:
    log, names = MemoryFactLog(), MemoryPseudonyms()
    await Ingest(log, names).handle_batch(list(History(people=120).events(3000)))
    queries = InsightsQueries(log, names, k=5)
    return jsonable_encoder(
        await queries.figures(window="all", team=None, now=datetime(2026, 12, 1, tzinfo=UTC))
    )


@dataclass
class Dashboard:
    client: httpx.AsyncClient
    calls: list[httpx.Request]


@pytest.fixture
async def dashboard(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Dashboard]:
    monkeypatch.setattr(insights_charts, "VALIDATE", True)  # every spec against the schema
    report = await _report()
    calls: list[httpx.Request] = []

    def insights(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.params.get("team") == "secret":
            return httpx.Response(
                403, json={"detail": "the organisation's insights are for admins"}
            )
        if request.url.path == "/insights":
            return httpx.Response(200, json=report)
        if request.url.path == "/insights/export/skills.csv":
            return httpx.Response(
                200,
                text="skill,requests\ngo,7\n",
                headers={"Content-Disposition": 'attachment; filename="x.csv"'},
            )
        return httpx.Response(404, json={"detail": "nothing here"})

    app = create_app(
        Settings(oidc_issuer="http://127.0.0.1:9/realms/none", insights_url="http://insights.test")
    )
    async with LifespanManager(app) as manager:
        state: AppState = app.state.web
        state.http = httpx.AsyncClient(transport=httpx.MockTransport(insights))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="https://127.0.0.1:8100"
        ) as c:
            await c.get("/signed-out")
            [session] = state.store._sessions.values()
            session.login = Login("p-010", "Admin", "a@x.org", "tok", None, None, time.time() + 600)
            yield Dashboard(c, calls)


async def test_the_dashboard_embeds_valid_vega_lite_charts_and_the_tables(dashboard):
    page = await dashboard.client.get("/insights?window=all")
    assert page.status_code == 200
    specs = dict(
        re.findall(
            r'<script type="application/json" id="spec-([a-z-]+)">(.*?)</script>', page.text, re.S
        )
    )
    assert set(specs) == {"supply-demand", "team-flows", "trend", "helper-load"}
    for text in specs.values():
        spec = json.loads(text)
        alt.Chart.from_dict(spec) if "layer" not in spec else alt.LayerChart.from_dict(spec)
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    flows = json.loads(specs["team-flows"])
    assert flows["layer"][0]["mark"]["type"] == "rect"  # a heatmap
    assert any(json.loads(specs["supply-demand"])["datasets"].values())
    assert 'id="skills-table"' in page.text and "vega-embed.min.js" in page.text
    [call] = [c for c in dashboard.calls if c.url.host == "insights.test"]
    assert call.headers["Authorization"] == "Bearer tok"
    assert call.url.params["window"] == "all"


async def test_a_refusal_of_the_insights_service_is_a_page_saying_so(dashboard):
    page = await dashboard.client.get("/insights?team=secret")
    assert page.status_code == 403
    assert "for admins" in page.text


async def test_a_csv_export_passes_through(dashboard):
    answer = await dashboard.client.get("/insights/export/skills.csv?window=7d")
    assert answer.status_code == 200
    assert answer.text == "skill,requests\ngo,7\n"
    assert answer.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("query", ["window=1y", "team=" + "x" * 101])
async def test_bad_filters_are_422(dashboard, query):
    assert (await dashboard.client.get(f"/insights?{query}")).status_code == 422
