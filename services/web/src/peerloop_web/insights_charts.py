"""The dashboard's charts as Vega-Lite specs, made with Altair from the insights figures.

Only figures that were not suppressed are drawn: a suppressed cell is absent from the
chart's data, and the page says how many were held back.
"""

from __future__ import annotations

from typing import Any

import altair as alt

Json = dict[str, Any]
WIDTH = 560
VALIDATE = False
"""Checking each spec against the Vega-Lite schema costs ~40 ms a chart; the tests check."""


def _spec(chart: alt.TopLevelMixin) -> Json:
    # Marks without ARIA roles: the page's caption and tables say what a chart shows, and
    # vega's per-mark roles would each need a text of their own.
    spec: Json = chart.configure(aria=False).to_dict(validate=VALIDATE)
    return spec


def _value(cell: Json | None) -> float | None:
    return None if cell is None else cell.get("value")


def supply_and_demand(report: Json) -> Json:
    rows = [
        {"skill": s["skill"], "measure": measure, "count": v}
        for s in report["skills"]
        for measure, key in (("requests", "requests"), ("people offering", "offerers"))
        if (v := _value(s[key])) is not None
    ]
    chart = (
        alt.Chart({"values": rows}, title="Demand and supply per skill")
        .mark_bar()
        .encode(
            y=alt.Y("skill:N", sort="-x", title=None),
            x=alt.X("count:Q", title="requests / people offering"),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top")),
            yOffset="measure:N",
            tooltip=["skill:N", "measure:N", "count:Q"],
        )
        .properties(width=WIDTH)
    )
    return _spec(chart)


def team_flows(report: Json) -> Json:
    rows = [
        {"teacher": f["teacher_team"], "learner": f["learner_team"], "sessions": v}
        for f in report["flows"]
        if (v := _value(f["sessions"])) is not None
    ]
    base = alt.Chart({"values": rows}, title="Who helped whom: sessions by team").encode(
        x=alt.X("learner:N", title="learners' team"),
        y=alt.Y("teacher:N", title="teachers' team"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("sessions:Q", scale=alt.Scale(scheme="blues"), title="sessions"),
        tooltip=["teacher:N", "learner:N", "sessions:Q"],
    )
    labels = base.mark_text(baseline="middle").encode(text="sessions:Q")
    return _spec(alt.layer(heat, labels).properties(width=WIDTH * 0.75, height=WIDTH * 0.6))


def trend(report: Json) -> Json:
    rows = [
        {"week": p["week"], "measure": measure, "count": v}
        for p in report["trend"]
        for measure in ("requests", "sessions")
        if (v := _value(p[measure])) is not None
    ]
    chart = (
        alt.Chart({"values": rows}, title="Requests and completed sessions per week")
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="week"),
            y=alt.Y("count:Q", title=None),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["week:T", "measure:N", "count:Q"],
        )
        .properties(width=WIDTH)
    )
    return _spec(chart)


def helper_load(report: Json) -> Json:
    rows = [
        {"sessions": b["sessions"], "helpers": v}
        for b in report["helper_load"]["distribution"]
        if (v := _value(b["helpers"])) is not None
    ]
    order = [b["sessions"] for b in report["helper_load"]["distribution"]]
    chart = (
        alt.Chart({"values": rows}, title="Helpers by sessions taught")
        .mark_bar()
        .encode(
            x=alt.X("sessions:N", sort=order, title="sessions taught in the window"),
            y=alt.Y("helpers:Q", title="helpers"),
            tooltip=["sessions:N", "helpers:Q"],
        )
        .properties(width=WIDTH * 0.6)
    )
    return _spec(chart)


def charts(report: Json) -> dict[str, Json]:
    return {
        "supply-demand": supply_and_demand(report),
        "team-flows": team_flows(report),
        "trend": trend(report),
        "helper-load": helper_load(report),
    }
