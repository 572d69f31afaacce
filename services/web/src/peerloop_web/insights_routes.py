"""The insights dashboard: the organisation's figures from the insights service, as charts.

For admins and holders of `insights:read`; anyone else gets the service's refusal as a
page. CSV exports pass through, so the browser never needs a token of its own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from peerloop_web.context import Person, render
from peerloop_web.insights_charts import charts
from peerloop_web.service_api import ServiceError

router = APIRouter()

Window = Literal["7d", "30d", "90d", "all"]
Section = Literal["skills", "flows", "helper-load", "outcomes", "trend", "teach-back"]
WINDOWS: tuple[tuple[Window, str], ...] = (
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
    ("90d", "last 90 days"),
    ("all", "all time"),
)
TeamQuery = Annotated[str | None, Query(max_length=100)]


@router.get("/insights")
async def dashboard(
    who: Person, request: Request, window: Window = "30d", team: TeamQuery = None
) -> Response:
    team = team or None
    try:
        report = await who.api.insights(window, team)
    except ServiceError as exc:
        return await render(
            who, request, "insights.html", status_code=exc.status, problem=exc.message,
            report=None, charts={}, windows=WINDOWS, window=window, team=team,
        )  # fmt: skip
    return await render(
        who, request, "insights.html", report=report, charts=charts(report),
        windows=WINDOWS, window=window, team=team,
    )  # fmt: skip


@router.get("/insights/export/{section}.csv")
async def export(
    who: Person,
    request: Request,
    section: Section,
    window: Window = "30d",
    team: TeamQuery = None,
) -> Response:
    try:
        answer = await who.api.insights_csv(section, window, team or None)
    except ServiceError as exc:
        return await render(
            who, request, "problem.html", status_code=exc.status, problem=exc.message
        )
    return Response(
        answer.content,
        media_type="text/csv",
        headers={"Content-Disposition": answer.headers.get("Content-Disposition", "attachment")},
    )
