"""The figures a programme owner reads before publishing an assignment."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from peerloop_matching.domain.availability import SLOT_MINUTES, week_mask
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.programmes.solver import Assignment, Unassigned

OVERLAP_HOURS = 2.0
"""Working hours a day a mentee and mentor should share to meet without strain."""

Schedule = tuple[str, Hours]
"""(IANA time zone, local working hours)."""


@dataclass(frozen=True)
class Figures:
    pairs: int
    mean_score: float
    worst_score: float
    max_load: int
    load_gini: float
    """Inequality of load over every mentor of the programme, idle ones included (0..1)."""
    cross_team_share: float
    overlap_share: float
    """Share of pairs sharing at least `OVERLAP_HOURS` working hours a day on average."""
    unassigned: tuple[Unassigned, ...]


def gini(values: Sequence[float]) -> float:
    """Mean absolute difference over twice the mean: 0 when all are equal."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((2 * (i + 1) - n - 1) * v for i, v in enumerate(ordered))
    return weighted / (n * total)


def daily_overlap_hours(mentee: Schedule, mentor: Schedule, monday: date) -> float:
    """Working hours the two share in the week, per working day of the mentee."""
    shared = week_mask(mentee[0], mentee[1], monday) & week_mask(mentor[0], mentor[1], monday)
    days = len(mentee[1].days)
    return shared.bit_count() * SLOT_MINUTES / 60 / days if days else 0.0


def figures(
    assignment: Assignment,
    *,
    mentors: Collection[str],
    teams: Mapping[str, str],
    schedules: Mapping[str, Schedule],
    monday: date,
) -> Figures:
    """`mentors`: everyone who could mentor in the programme, for the load distribution;
    `teams` and `schedules` by person id (anyone missing counts as no team, UTC 9–17)."""
    matches = assignment.matches
    scores = [m.score for m in matches]
    loads = assignment.loads()
    everyone = set(mentors) | set(loads)
    default: Schedule = ("UTC", Hours())
    cross = sum(
        1
        for m in matches
        if teams.get(m.mentor_id, "") and teams.get(m.mentor_id) != teams.get(m.mentee_id, "")
    )
    overlapping = sum(
        1
        for m in matches
        if daily_overlap_hours(
            schedules.get(m.mentee_id, default), schedules.get(m.mentor_id, default), monday
        )
        >= OVERLAP_HOURS
    )
    count = len(matches)
    return Figures(
        pairs=count,
        mean_score=sum(scores) / count if count else math.nan,
        worst_score=min(scores) if scores else math.nan,
        max_load=max(loads.values(), default=0),
        load_gini=gini([loads.get(m, 0) for m in sorted(everyone)]),
        cross_team_share=cross / count if count else math.nan,
        overlap_share=overlapping / count if count else math.nan,
        unassigned=assignment.unassigned,
    )
