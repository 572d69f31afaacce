"""HTTP API of the insights service: the figures as JSON and as CSV, for admins and
holders of the `insights:read` scope only. Nothing here names a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse
from peerloop_contracts.common import Team
from peerloop_runtime.auth import CurrentPrincipal, Forbidden, Principal

from peerloop_insights.application.queries import InsightsQueries
from peerloop_insights.bootstrap import InsightsService, bootstrap
from peerloop_insights.config import Settings
from peerloop_insights.domain.figures import Report, Window
from peerloop_insights.entrypoints.csv_export import Section, to_csv

READ_SCOPE = "insights:read"
READ_RULE = f"the organisation's insights are for admins and holders of the {READ_SCOPE!r} scope"


def _reader(principal: CurrentPrincipal) -> Principal:
    if not (principal.is_admin or READ_SCOPE in principal.scopes):
        raise Forbidden(READ_RULE)
    return principal


def _queries(request: Request) -> InsightsQueries:
    service: InsightsService = request.app.state.service
    return service.queries


Reader = Annotated[Principal, Depends(_reader)]
QueriesDep = Annotated[InsightsQueries, Depends(_queries)]
WindowQuery = Annotated[Window, Query(description="7d, 30d, 90d or all")]
TeamQuery = Annotated[
    Team | None, Query(description="one team's figures; the whole organisation when absent")
]


def insights_router() -> APIRouter:
    router = APIRouter(prefix="/insights", tags=["insights"])

    @router.get(
        "",
        summary="Every figure of a window, organisation-wide or for one team",
        description="A figure describing fewer than k people (PEERLOOP_MIN_PEOPLE) is null "
        "with `people` null; skills and team pairs all of whose figures are suppressed are "
        "left out and counted in `suppressed_skills` and `suppressed_flows`.",
    )
    async def figures(
        _reader: Reader, queries: QueriesDep, window: WindowQuery = "30d", team: TeamQuery = None
    ) -> Report:
        return await queries.figures(window=window, team=team)

    @router.get("/teams", summary="The teams with at least k people")
    async def teams(_reader: Reader, queries: QueriesDep) -> list[str]:
        return await queries.teams()

    @router.get(
        "/export/{section}.csv",
        summary="One section of the figures as CSV (a suppressed figure is an empty field)",
        response_class=PlainTextResponse,
    )
    async def export(
        section: Section,
        _reader: Reader,
        queries: QueriesDep,
        window: WindowQuery = "30d",
        team: TeamQuery = None,
    ) -> PlainTextResponse:
        report = await queries.figures(window=window, team=team)
        name = f"insights-{section}-{window}{'-' + team if team else ''}.csv"
        return PlainTextResponse(
            to_csv(report, section),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_safe(name)}"'},
        )

    return router


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


def create_app(settings: Settings | None = None, service: InsightsService | None = None) -> FastAPI:
    service = service or bootstrap(settings)
    runtime = service.runtime
    app = FastAPI(title="Peerloop insights", version="0.1.0", lifespan=runtime.lifespan)
    app.state.service = service
    app.state.runtime = runtime
    runtime.instrument(app)
    runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(insights_router())
    return app
