"""The aggregation rules: from the facts to the figures a learning lead reads.

Pure: the same facts, window, team, k and `now` give the same figures, which is what
the replay test compares. Every figure goes through `privacy.cell`.

A team filter selects the facts about that team's people: demand by the requester's
team, supply and helper load by the helper's team, sessions and flows when either the
learner or the teacher is in the team, teach-back by the learner's team.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from peerloop_insights.domain.facts import ERASED, WAITING_STATES, Facts, PersonFacts, RequestFacts
from peerloop_insights.domain.inequality import gini, top_decile_size, top_share
from peerloop_insights.domain.privacy import Cell, cell

Window = Literal["7d", "30d", "90d", "all"]
WINDOWS: dict[Window, timedelta | None] = {
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "all": None,
}
TREND_WEEKS_MAX = 52
LOAD_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-4", 2, 4),
    ("5-9", 5, 9),
    ("10+", 10, None),
)


@dataclass(frozen=True)
class SkillRow:
    skill: str
    requests: Cell
    offerers: Cell
    unmatched: Cell
    waiting: Cell
    minutes_to_first_proposal: Cell
    """Median, over the window's requests that got a proposal."""
    minutes_to_session: Cell
    """Median, from the request to the accepted match."""


@dataclass(frozen=True)
class FlowCell:
    teacher_team: str
    learner_team: str
    sessions: Cell


@dataclass(frozen=True)
class TeachBack:
    learned: Cell
    """People who learned a skill in a session in the window (person × skill)."""
    offered: Cell
    """… of whom went on to offer that skill."""
    taught: Cell
    """… of whom taught it in a completed session after learning it."""


@dataclass(frozen=True)
class LoadBucket:
    sessions: str
    helpers: Cell


@dataclass(frozen=True)
class HelperLoad:
    helpers: Cell
    distribution: list[LoadBucket]
    gini: Cell
    top_decile_share: Cell
    """Shown only when the top 10 % are at least k people, so it never tells of one."""


@dataclass(frozen=True)
class RatingBucket:
    stars: int
    ratings: Cell


@dataclass(frozen=True)
class Outcomes:
    completed: Cell
    not_happened: Cell
    ratings: list[RatingBucket]
    mean_rating: Cell
    """Of the teachers, as rated by their learners."""


@dataclass(frozen=True)
class TrendPoint:
    week: date
    requests: Cell
    sessions: Cell


@dataclass(frozen=True)
class Report:
    window: Window
    team: str | None
    k: int
    as_of: datetime
    skills: list[SkillRow]
    flows: list[FlowCell]
    teach_back: TeachBack
    helper_load: HelperLoad
    outcomes: Outcomes
    trend: list[TrendPoint]
    suppressed_skills: int = 0
    suppressed_flows: int = 0
    teams: list[str] = field(default_factory=list)


def _since(window: Window, now: datetime) -> datetime | None:
    span = WINDOWS[window]
    return None if span is None else now - span


def _within(at: datetime | None, since: datetime | None, now: datetime) -> bool:
    return at is not None and (since is None or at >= since) and at <= now


class _View:
    """The facts seen through one team filter, with each person's team at hand."""

    def __init__(self, facts: Facts, team: str | None) -> None:
        self.facts = facts
        self.team = team
        self.team_of = {t: p.team_name for t, p in facts.people.items()}

    def in_team(self, token: str | None) -> bool:
        return self.team is None or (token is not None and self.team_of.get(token) == self.team)

    def people(self) -> Iterable[tuple[str, PersonFacts]]:
        return ((t, p) for t, p in self.facts.people.items() if self.in_team(t))


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 60


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def skill_rows(view: _View, since: datetime | None, now: datetime, k: int) -> list[SkillRow]:
    asked: dict[str, list[RequestFacts]] = {}
    for r in view.facts.requests.values():
        if r.skill and _within(r.requested_at, since, now) and view.in_team(r.requester):
            asked.setdefault(r.skill, []).append(r)
    offering: dict[str, set[str]] = {}
    for token, person in view.people():
        for skill in person.offering():
            offering.setdefault(skill, set()).add(token)
    rows = []
    for skill in sorted(set(asked) | set(offering)):
        requests = asked.get(skill, [])
        requesters = [r.requester for r in requests]
        unmatched = [r for r in requests if r.state_name == "unmatched"]
        waiting = [r for r in requests if r.state_name in WAITING_STATES]
        to_proposal = [
            m for r in requests if (m := _minutes(r.requested_at, r.proposed_at)) is not None
        ]
        to_session = [
            m for r in requests if (m := _minutes(r.requested_at, r.accepted_at)) is not None
        ]
        rows.append(
            SkillRow(
                skill=skill,
                requests=cell(len(requests), requesters, k),
                offerers=cell(len(offering.get(skill, ())), offering.get(skill, ()), k),
                unmatched=cell(len(unmatched), [r.requester for r in unmatched], k),
                waiting=cell(len(waiting), [r.requester for r in waiting], k),
                minutes_to_first_proposal=cell(
                    _median(to_proposal),
                    [r.requester for r in requests if r.proposed_at is not None],
                    k,
                ),
                minutes_to_session=cell(
                    _median(to_session),
                    [r.requester for r in requests if r.accepted_at is not None],
                    k,
                ),
            )
        )
    return rows


def _sessions(view: _View, since: datetime | None, now: datetime) -> list[RequestFacts]:
    return [
        r
        for r in view.facts.requests.values()
        if _within(r.completed_at, since, now)
        and (view.in_team(r.learner) or view.in_team(r.teacher))
    ]


def flows(view: _View, sessions: list[RequestFacts], k: int) -> list[FlowCell]:
    pairs: dict[tuple[str, str], list[RequestFacts]] = {}
    for r in sessions:
        teacher_team = view.team_of.get(r.teacher or "")
        learner_team = view.team_of.get(r.learner or "")
        if teacher_team and learner_team:
            pairs.setdefault((teacher_team, learner_team), []).append(r)
    return [
        FlowCell(
            teacher_team=teams[0],
            learner_team=teams[1],
            sessions=cell(len(rs), [r.teacher for r in rs] + [r.learner for r in rs], k),
        )
        for teams, rs in sorted(pairs.items())
    ]


def teach_back(view: _View, since: datetime | None, now: datetime, k: int) -> TeachBack:
    taught_after: dict[tuple[str, str], datetime] = {}
    for r in view.facts.requests.values():
        if r.completed_at and r.teacher and r.skill and r.completed_at <= now:
            key = (r.teacher, r.skill)
            taught_after[key] = max(taught_after.get(key, r.completed_at), r.completed_at)
    learned: list[str] = []
    offered: list[str] = []
    taught: list[str] = []
    for token, person in view.people():
        for skill, at in person.acquired.items():
            if not _within(at, since, now):
                continue
            learned.append(token)
            if skill in person.first_offered:
                offered.append(token)
            last_taught = taught_after.get((token, skill))
            if last_taught is not None and last_taught > at:
                taught.append(token)
    return TeachBack(
        learned=cell(len(learned), learned, k),
        offered=cell(len(offered), offered, k),
        taught=cell(len(taught), taught, k),
    )


def helper_load(view: _View, sessions: list[RequestFacts], k: int) -> HelperLoad:
    load: dict[str, int] = {token: 0 for token, person in view.people() if person.offering()}
    for r in sessions:
        if r.teacher and r.teacher != ERASED and view.in_team(r.teacher):
            load[r.teacher] = load.get(r.teacher, 0) + 1
    loads = list(load.values())
    distribution = []
    for label, low, high in LOAD_BUCKETS:
        inside = [t for t, n in load.items() if n >= low and (high is None or n <= high)]
        distribution.append(LoadBucket(label, cell(len(inside), inside, k)))
    helpers = list(load)
    top_enough = top_decile_size(len(loads)) >= k
    return HelperLoad(
        helpers=cell(len(helpers), helpers, k),
        distribution=distribution,
        gini=cell(_rounded(gini(loads)), helpers, k),
        top_decile_share=cell(_rounded(top_share(loads)) if top_enough else None, helpers, k),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def outcomes(
    view: _View, sessions: list[RequestFacts], since: datetime | None, now: datetime, k: int
) -> Outcomes:
    missed = [
        r
        for r in view.facts.requests.values()
        if _within(r.not_happened_at, since, now)
        and (view.in_team(r.learner) or view.in_team(r.teacher))
    ]
    rated = [r for r in sessions if r.teacher_rating is not None]
    buckets = []
    for stars in range(1, 6):
        given = [r for r in rated if r.teacher_rating and r.teacher_rating[1] == stars]
        buckets.append(RatingBucket(stars, cell(len(given), [r.learner for r in given], k)))
    mean = (
        round(statistics.fmean(r.teacher_rating[1] for r in rated if r.teacher_rating), 2)
        if rated
        else None
    )
    return Outcomes(
        completed=cell(len(sessions), _participants(sessions), k),
        not_happened=cell(len(missed), _participants(missed), k),
        ratings=buckets,
        mean_rating=cell(mean, [r.learner for r in rated], k),
    )


def _participants(requests: list[RequestFacts]) -> list[str | None]:
    return [r.learner for r in requests] + [r.teacher for r in requests]


def _week(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def trend(
    view: _View, sessions: list[RequestFacts], since: datetime | None, now: datetime, k: int
) -> list[TrendPoint]:
    first = _week(now) - timedelta(weeks=TREND_WEEKS_MAX - 1)
    if since is not None:
        first = max(first, _week(since))
    asked: dict[date, list[str | None]] = {}
    for r in view.facts.requests.values():
        if _within(r.requested_at, since, now) and view.in_team(r.requester):
            assert r.requested_at is not None
            asked.setdefault(_week(r.requested_at), []).append(r.requester)
    held: dict[date, list[RequestFacts]] = {}
    for r in sessions:
        assert r.completed_at is not None
        held.setdefault(_week(r.completed_at), []).append(r)
    points = []
    week = first
    while week <= _week(now):
        requesters = asked.get(week, [])
        done = held.get(week, [])
        points.append(
            TrendPoint(
                week=week,
                requests=cell(len(requesters), requesters, k),
                sessions=cell(len(done), _participants(done), k),
            )
        )
        week += timedelta(weeks=1)
    return points


def teams(facts: Facts, k: int) -> list[str]:
    """The teams with at least k people: the only ones a filter may name meaningfully."""
    members: dict[str, int] = {}
    for person in facts.people.values():
        if person.team_name:
            members[person.team_name] = members.get(person.team_name, 0) + 1
    return sorted(t for t, n in members.items() if n >= k)


def report(facts: Facts, *, window: Window, team: str | None, k: int, now: datetime) -> Report:
    since = _since(window, now)
    view = _View(facts, team)
    sessions = _sessions(view, since, now)
    rows = skill_rows(view, since, now, k)
    shown_rows = [
        r
        for r in rows
        if not all(c.suppressed for c in (r.requests, r.offerers, r.unmatched, r.waiting))
    ]
    flow_cells = flows(view, sessions, k)
    shown_flows = [f for f in flow_cells if not f.sessions.suppressed]
    return Report(
        window=window,
        team=team,
        k=k,
        as_of=now,
        skills=shown_rows,
        flows=shown_flows,
        teach_back=teach_back(view, since, now, k),
        helper_load=helper_load(view, sessions, k),
        outcomes=outcomes(view, sessions, since, now, k),
        trend=trend(view, sessions, since, now, k),
        suppressed_skills=len(rows) - len(shown_rows),
        suppressed_flows=len(flow_cells) - len(shown_flows),
        teams=teams(facts, k),
    )
