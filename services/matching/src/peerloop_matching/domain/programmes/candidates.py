"""Sparse candidate pairs for a cohort: each mentee's best `top_k` mentors.

The pairs come from the matching engine itself (`find_helpers` through the skill
index, or `rank_all` over a small pool such as the programme's opted-in mentors or
the mentee's own team), so a pair's score and breakdown are exactly what a one-off
request for the same skill would give. The organisation's rules are applied here:
the managers above a mentee and the people they asked not to see again are skipped
during the search; the rest (their own reports, team rules) is checked per pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Candidate, Hours
from peerloop_matching.domain.engine import Need, Outcome, find_helpers, rank_all
from peerloop_matching.domain.programmes.pairs import Pairs, UnassignedReason
from peerloop_matching.domain.programmes.rules import (
    Org,
    PairingRules,
    conflict,
    excluded_upfront,
)
from peerloop_matching.domain.scoring import Requester, Scored, Weights, score
from peerloop_matching.domain.skill_index import SkillIndex

ANY_PAIR = PairingRules()
SLACK = 10
"""Candidates fetched beyond `top_k` so that those dropped by a per-pair rule are replaced."""


@dataclass(frozen=True)
class Mentee:
    person_id: str
    skill_id: str
    desired_level: int
    team: str = ""
    time_zone: str = "UTC"
    hours: Hours = field(default_factory=Hours)

    def requester(self, now: datetime) -> Requester:
        mask = week_mask(self.time_zone, self.hours, week_start(now))
        return Requester(self.person_id, self.team, mask)


@dataclass(frozen=True)
class Candidates:
    pairs: Pairs
    skills: tuple[str, ...]
    """The skill each row's mentor offers: the goal skill or a related one."""
    reasons: dict[str, tuple[UnassignedReason, str]]
    """Why a mentee has no candidate at all."""


def candidate_pairs(
    mentees: Iterable[Mentee],
    index: SkillIndex,
    *,
    weights: Weights,
    now: datetime,
    top_k: int,
    org: Org,
    rules: PairingRules = ANY_PAIR,
    mentors: Collection[str] | None = None,
) -> Candidates:
    """`mentors`: the programme's opted-in mentors; None for anyone in the index."""
    by_team: dict[str, list[str]] = {}
    opted_in = frozenset(mentors or ())
    if rules.team == "same_team":
        for person in org.people.values():
            by_team.setdefault(person.team, []).append(person.person_id)
    mentee_ids: list[str] = []
    rows: list[tuple[int, str, float, str]] = []
    reasons: dict[str, tuple[UnassignedReason, str]] = {}
    for at, mentee in enumerate(mentees):
        mentee_ids.append(mentee.person_id)
        need = Need(
            mentee.skill_id,
            mentee.desired_level,
            mentee.requester(now),
            tried=excluded_upfront(mentee.person_id, org, rules),
        )
        pool = mentors
        if rules.team == "same_team":
            team = by_team.get(mentee.team, [])
            pool = team if mentors is None else [p for p in team if p in opted_in]
        if pool is None:
            outcome = find_helpers(need, index, weights=weights, now=now, limit=top_k + SLACK)
        else:
            offerers = _offerers(index, pool, (mentee.skill_id, *index.related(mentee.skill_id)))
            outcome = rank_all(need, offerers, weights=weights, now=now, limit=top_k + SLACK)
        kept, refused = _allowed(mentee, outcome, org, rules, top_k)
        if kept:
            rows.extend((at, s.candidate.person_id, s.score, s.skill_id) for s in kept)
        elif refused:
            why = ", ".join(f"{n} {kind}" for kind, n in refused.most_common())
            reasons[mentee.person_id] = ("excluded_by_rules", f"every candidate is excluded: {why}")
        elif outcome.unmatched_reason == "all_declined":
            # Everyone who offers the skill was skipped up front (`excluded_upfront`).
            reasons[mentee.person_id] = (
                "excluded_by_rules",
                "everyone offering the skill is in the mentee's reporting line "
                "or asked not to be paired again",
            )
        else:
            reasons[mentee.person_id] = ("no_candidate", outcome.detail)
    mentor_at: dict[str, int] = {}
    mentor_col = np.fromiter(
        (mentor_at.setdefault(r[1], len(mentor_at)) for r in rows), np.int32, len(rows)
    )
    return Candidates(
        Pairs(
            tuple(mentee_ids),
            tuple(mentor_at),
            np.fromiter((r[0] for r in rows), np.int32, len(rows)),
            mentor_col,
            np.fromiter((r[2] for r in rows), np.float64, len(rows)),
        ),
        tuple(r[3] for r in rows),
        reasons,
    )


def explain_pair(
    mentee: Mentee, mentor: Candidate, offered_skill: str, *, weights: Weights, now: datetime
) -> Scored:
    """The breakdown of one pair, as one-off matching shows it."""
    return score(
        mentor,
        offered_skill=offered_skill,
        requested_skill=mentee.skill_id,
        desired_level=mentee.desired_level,
        requester=mentee.requester(now),
        helper_mask=week_mask(mentor.time_zone, mentor.hours, week_start(now)),
        weights=weights,
        now=now,
    )


def _offerers(
    index: SkillIndex, pool: Iterable[str], skills: tuple[str, ...]
) -> Iterator[tuple[Candidate, str]]:
    for person_id in pool:
        candidate = index.get(person_id)
        if candidate is not None:
            yield from ((candidate, s) for s in skills if s in candidate.offers)


def _allowed(
    mentee: Mentee, outcome: Outcome, org: Org, rules: PairingRules, top_k: int
) -> tuple[list[Scored], Counter[str]]:
    kept: list[Scored] = []
    refused: Counter[str] = Counter()
    for scored in outcome.ranked:
        why = conflict(mentee.person_id, scored.candidate.person_id, org, rules)
        if why is not None:
            refused[why] += 1
        elif len(kept) < top_k:
            kept.append(scored)
    return kept, refused
