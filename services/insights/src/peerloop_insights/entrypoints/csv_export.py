"""The figures of one report section as CSV rows: a suppressed cell is an empty field."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from peerloop_insights.domain.figures import Report
from peerloop_insights.domain.privacy import Cell

Section = Literal["skills", "flows", "helper-load", "outcomes", "trend", "teach-back"]
Rows = tuple[Sequence[str], Iterable[Sequence[object]]]


def _v(c: Cell) -> object:
    return "" if c.value is None else c.value


def _skills(r: Report) -> Rows:
    head = (
        "skill",
        "requests",
        "offerers",
        "unmatched",
        "waiting",
        "median_minutes_to_first_proposal",
        "median_minutes_to_session",
    )
    body = [
        (
            s.skill,
            _v(s.requests),
            _v(s.offerers),
            _v(s.unmatched),
            _v(s.waiting),
            _v(s.minutes_to_first_proposal),
            _v(s.minutes_to_session),
        )
        for s in r.skills
    ]
    return head, body


def _flows(r: Report) -> Rows:
    return ("teacher_team", "learner_team", "sessions"), [
        (f.teacher_team, f.learner_team, _v(f.sessions)) for f in r.flows
    ]


def _helper_load(r: Report) -> Rows:
    load = r.helper_load
    rows: list[Sequence[object]] = [
        ("helpers", "", _v(load.helpers)),
        ("gini", "", _v(load.gini)),
        ("top_decile_share", "", _v(load.top_decile_share)),
    ]
    rows += [("helpers_with_sessions", b.sessions, _v(b.helpers)) for b in load.distribution]
    return ("figure", "sessions", "value"), rows


def _outcomes(r: Report) -> Rows:
    o = r.outcomes
    rows: list[Sequence[object]] = [
        ("completed", "", _v(o.completed)),
        ("not_happened", "", _v(o.not_happened)),
        ("mean_rating", "", _v(o.mean_rating)),
    ]
    rows += [("ratings", b.stars, _v(b.ratings)) for b in o.ratings]
    return ("figure", "stars", "value"), rows


def _trend(r: Report) -> Rows:
    return ("week", "requests", "sessions"), [
        (p.week.isoformat(), _v(p.requests), _v(p.sessions)) for p in r.trend
    ]


def _teach_back(r: Report) -> Rows:
    t = r.teach_back
    return ("stage", "people_skills"), [
        ("learned", _v(t.learned)),
        ("offered", _v(t.offered)),
        ("taught", _v(t.taught)),
    ]


SECTIONS: dict[str, Callable[[Report], Rows]] = {
    "skills": _skills,
    "flows": _flows,
    "helper-load": _helper_load,
    "outcomes": _outcomes,
    "trend": _trend,
    "teach-back": _teach_back,
}


def to_csv(report: Report, section: Section) -> str:
    head, body = SECTIONS[section](report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(body)
    return out.getvalue()
