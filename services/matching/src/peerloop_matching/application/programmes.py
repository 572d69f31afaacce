"""Use cases of a programme: create, preview, adjust, publish, close, and a decline re-solved.

Preview draws each mentee's best mentors from the matching engine's index (so a pair's
score and breakdown are what a one-off request would show), applies the
organisation's rules, solves the whole assignment (`domain/programmes/solver.py`) and
keeps it with the figures. Publishing opens one help request per pair, already
proposed to its mentor: from then on it is the ordinary accept/decline flow. When a
mentor declines or lets the proposal expire, that request waits for the programme
(`HelpRequest.programme_id`): `on_declined` gives the mentee the best mentor with room
left, every other pair untouched, and proposes them through the same request.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta, utc_now
from peerloop_contracts.matching import MatchDeclined, MatchExpired, ScoreComponent
from peerloop_contracts.programmes import Adjustment
from peerloop_contracts.skills import SkillCatalogue

from peerloop_matching.application.help_requests import MatchingPolicy
from peerloop_matching.application.index_sync import IndexSync
from peerloop_matching.application.org_rules import OrgRules
from peerloop_matching.application.ports import HelpRequestRepository, ProgrammeRepository
from peerloop_matching.domain.availability import week_start
from peerloop_matching.domain.errors import InvalidTransitionError, NotFoundError, StaleVersionError
from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.domain.programmes.candidates import Mentee, candidate_pairs, explain_pair
from peerloop_matching.domain.programmes.figures import figures
from peerloop_matching.domain.programmes.pairs import Pairs, UnassignedReason
from peerloop_matching.domain.programmes.programme import (
    PlannedPair,
    Programme,
    ProgrammeFigures,
    Unplaced,
)
from peerloop_matching.domain.programmes.rules import PairingRules, TeamRule
from peerloop_matching.domain.programmes.solver import (
    Assignment,
    Match,
    Options,
    Problem,
    resolve_declined,
    solve,
)
from peerloop_matching.domain.scoring import Scored

log = logging.getLogger("peerloop.matching.programmes")

TOP_K = 50
"""Candidate mentors per mentee and goal skill: enough room for the solver to trade when
the best mentors of many mentees are the same few (one time zone, say)."""
RESOLVE_TOP_K = 2_000
"""Candidates of the one mentee placed again after a decline: the best mentors are often
full by then, so the search reaches far down to those with room left."""
MAX_SAVE_TRIES = 5


@dataclass(frozen=True)
class NewProgramme:
    name: str
    goal_skills: list[str]
    starts_on: date
    ends_on: date
    created_by: str
    capacity: int
    cohort: list[str] | None = None
    cohort_team: str | None = None
    mentors: list[str] | None = None
    capacities: dict[str, int] = field(default_factory=dict)
    level: int = 2
    team_rule: TeamRule = "any"
    fairness: bool = False
    per_team: int | None = None


class Programmes:
    def __init__(
        self,
        store: ProgrammeRepository,
        requests: HelpRequestRepository,
        sync: IndexSync,
        catalogue: SkillCatalogue,
        rules: OrgRules,
        policy: MatchingPolicy,
        on_outbox: Callable[[str], None] = lambda _id: None,
        on_request_outbox: Callable[[str], None] = lambda _id: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.requests = requests
        self.sync = sync
        self.catalogue = catalogue
        self.rules = rules
        self.policy = policy
        self.on_outbox = on_outbox
        self.on_request_outbox = on_request_outbox
        self.clock = clock

    # -- queries ---------------------------------------------------------------------------

    async def get(self, programme_id: str) -> Programme:
        programme = await self.store.load(programme_id)
        if programme is None:
            raise NotFoundError(f"no programme {programme_id}")
        return programme

    # -- commands --------------------------------------------------------------------------

    async def create(self, command: NewProgramme) -> Programme:
        if (command.cohort is None) == (command.cohort_team is None):
            raise InvalidTransitionError("give the cohort as a list of people or as a team")
        cohort = command.cohort
        if command.cohort_team is not None:
            index = self.sync.index
            cohort = sorted(
                p
                for p in index.person_ids()
                if (c := index.get(p)) is not None and c.team == command.cohort_team
            )
        programme, events = Programme.create(
            programme_id=f"pg-{uuid.uuid4().hex[:16]}",
            name=command.name,
            goal_skills=list(
                dict.fromkeys(self.catalogue.canonical(s) for s in command.goal_skills)
            ),
            level=command.level,
            cohort=list(dict.fromkeys(cohort or ())),
            cohort_team=command.cohort_team,
            mentors=None if command.mentors is None else list(dict.fromkeys(command.mentors)),
            capacity=command.capacity,
            capacities=command.capacities,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            team_rule=command.team_rule,
            fairness=command.fairness,
            per_team=command.per_team,
            created_by=command.created_by,
            created_at=self.clock(),
        )
        await self.store.insert(programme, events)
        self.on_outbox(programme.programme_id)
        return programme

    async def preview(self, programme_id: str, expected_version: int | None = None) -> Programme:
        async def decide(programme: Programme) -> list[Event]:
            now = self.clock()
            assignment, problem, skills = await self._solve(programme, now)
            planned = [self._planned(programme, m, skills, now) for m in assignment.matches]
            teams = {p: c.team for p in _people(problem) if (c := self.sync.index.get(p))}
            schedules = {
                p: (c.time_zone, c.hours) for p in _people(problem) if (c := self.sync.index.get(p))
            }
            found = figures(
                assignment,
                mentors=set(problem.pairs.mentors) | set(programme.mentors or ()),
                teams=teams,
                schedules=schedules,
                monday=week_start(now),
            )
            return programme.preview(
                planned,
                [
                    Unplaced(mentee_id=u.mentee_id, reason=u.reason, detail=u.detail)
                    for u in assignment.unassigned
                ],
                ProgrammeFigures(
                    pairs=found.pairs,
                    mean_score=_number(found.mean_score),
                    worst_score=_number(found.worst_score),
                    max_load=found.max_load,
                    load_gini=found.load_gini,
                    cross_team_share=_number(found.cross_team_share),
                    overlap_share=_number(found.overlap_share),
                ),
                now=now,
            )

        return await self._run(programme_id, decide, expected_version)

    async def adjust(
        self,
        programme_id: str,
        change: Adjustment,
        *,
        mentor_id: str,
        mentee_id: str | None = None,
        capacity: int | None = None,
        expected_version: int | None = None,
    ) -> Programme:
        async def decide(programme: Programme) -> list[Event]:
            return programme.adjust(
                change, mentor_id=mentor_id, mentee_id=mentee_id, capacity=capacity
            )

        return await self._run(programme_id, decide, expected_version)

    async def publish(self, programme_id: str, expected_version: int | None = None) -> Programme:
        """Every pair becomes a help request proposed to its mentor. The requests are written
        first, each once (its id comes from the programme and the mentee), so a publish that
        fails half way is simply retried."""

        async def decide(programme: Programme) -> list[Event]:
            now = self.clock()
            events = programme.publish(now=now)
            for pair in programme.pairs:
                await self._open_request(programme, pair, now)
            return events

        return await self._run(programme_id, decide, expected_version)

    async def close(self, programme_id: str, expected_version: int | None = None) -> Programme:
        async def decide(programme: Programme) -> list[Event]:
            return programme.close()

        return await self._run(programme_id, decide, expected_version)

    async def on_declined(self, event: MatchDeclined | MatchExpired, _meta: CloudEventMeta) -> None:
        """A programme's mentor declined or let the proposal expire: place that mentee again."""
        for _ in range(MAX_SAVE_TRIES):
            request = await self.requests.load(event.request_id)
            if request is None or request.programme_id is None or request.state != "requested":
                return  # not a programme's, erased, or placed again already (a redelivery)
            programme = await self.store.load(request.programme_id)
            if programme is None or programme.state != "published":
                why = "the programme is closed" if programme else "the programme is gone"
                events = request.give_up("all_declined", why)
                if await self.requests.save(request, events):
                    self.on_request_outbox(request.request_id)
                    return
                continue
            if await self._place_again(programme, request):
                return
        raise RuntimeError(f"programme request {event.request_id} kept changing while re-solving")

    # -- internals -------------------------------------------------------------------------

    async def _place_again(self, programme: Programme, request: HelpRequest) -> bool:
        now = self.clock()
        mentee_id = request.requester_id
        current = programme.pair_of(mentee_id)
        if current is None:
            return True  # nothing to replace: the programme has moved on
        problem, skills = await self._problem(programme, [mentee_id], now, top_k=RESOLVE_TOP_K)
        problem = replace(
            problem, forbids=problem.forbids | {(mentee_id, h) for h in request.tried_helpers}
        )
        assignment = Assignment(
            tuple(Match(p.mentee_id, p.mentor_id, p.score) for p in programme.pairs), ()
        )
        _problem, placed = resolve_declined(problem, assignment, mentee_id, current.mentor_id)
        match = next((m for m in placed.matches if m.mentee_id == mentee_id), None)
        why = next((u for u in placed.unassigned if u.mentee_id == mentee_id), None)
        if match is not None:
            scored = self._scored(
                mentee_id, match.mentor_id, skills[(mentee_id, match.mentor_id)], programme, now
            )
            request_events = request.propose(scored, now=now, ttl=self.policy.proposal_ttl)
            pair: PlannedPair | None = _pair(scored, mentee_id)
            unplaced = Unplaced(mentee_id=mentee_id, reason="candidates_full", detail="")
        else:
            detail = why.detail if why else "no candidate mentor has room left"
            request_events = request.give_up("all_declined", detail)
            pair = None
            unplaced = Unplaced(
                mentee_id=mentee_id,
                reason=why.reason if why else "candidates_full",
                detail=detail,
            )
        if not await self.requests.save(request, request_events):
            return False
        self.on_request_outbox(request.request_id)
        for _ in range(MAX_SAVE_TRIES):
            events = programme.replace_mentor(mentee_id, pair, unplaced)
            if await self.store.save(programme, events):
                self.on_outbox(programme.programme_id)
                return True
            fresh = await self.store.load(programme.programme_id)
            if fresh is None or fresh.state != "published":
                return True
            programme = fresh
        raise StaleVersionError(f"programme {programme.programme_id} is changing too fast")

    async def _open_request(self, programme: Programme, pair: PlannedPair, now: datetime) -> None:
        assert pair.request_id is not None
        request, events = HelpRequest.create(
            request_id=pair.request_id,
            requester_id=pair.mentee_id,
            skill_id=pair.skill_id,
            desired_level=programme.level,
            task=f"Mentoring in the programme {programme.name!r} "
            f"({programme.starts_on.isoformat()} to {programme.ends_on.isoformat()})",
            created_at=now,
            programme_id=programme.programme_id,
        )
        scored = self._scored(pair.mentee_id, pair.mentor_id, pair.skill_id, programme, now)
        events += request.propose(scored, now=now, ttl=self.policy.proposal_ttl)
        if await self.requests.insert(request, events):
            self.on_request_outbox(request.request_id)

    def _scored(
        self, mentee_id: str, mentor_id: str, skill_id: str, programme: Programme, now: datetime
    ) -> Scored:
        mentor = self.sync.index.get(mentor_id)
        if mentor is None:
            raise InvalidTransitionError(f"mentor {mentor_id} is no longer known to matching")
        return explain_pair(
            self._mentee(mentee_id, _goal_of(skill_id, programme, self.sync), programme),
            mentor,
            skill_id,
            weights=self.policy.weights,
            now=now,
        )

    def _planned(
        self,
        programme: Programme,
        match: Match,
        skills: dict[tuple[str, str], str],
        now: datetime,
    ) -> PlannedPair:
        scored = self._scored(
            match.mentee_id,
            match.mentor_id,
            skills[(match.mentee_id, match.mentor_id)],
            programme,
            now,
        )
        pair = _pair(scored, match.mentee_id)
        pair.pinned = match.pinned
        pair.score = match.score
        return pair

    def _mentee(self, person_id: str, skill_id: str, programme: Programme) -> Mentee:
        person = self.sync.index.get(person_id)
        if person is None:
            return Mentee(person_id, skill_id, programme.level)
        return Mentee(
            person_id, skill_id, programme.level, person.team, person.time_zone, person.hours
        )

    async def _solve(
        self, programme: Programme, now: datetime
    ) -> tuple[Assignment, Problem, dict[tuple[str, str], str]]:
        problem, skills = await self._problem(programme, programme.cohort, now)
        try:
            return solve(problem), problem, skills
        except ValueError as exc:  # pins that cannot hold: the admin's to fix
            raise InvalidTransitionError(str(exc)) from exc

    async def _problem(
        self,
        programme: Programme,
        mentee_ids: Iterable[str],
        now: datetime,
        top_k: int | None = None,
    ) -> tuple[Problem, dict[tuple[str, str], str]]:
        """The candidate pairs of `mentee_ids` over every goal skill (a mentor's best skill
        for the mentee wins), with the programme's capacities, pins and forbids."""
        ids = list(mentee_ids)
        view = await self.rules.org_for(ids, PairingRules(team=programme.team_rule))
        known = [m for m in ids if self.sync.index.get(m) is not None]
        best: dict[tuple[str, str], tuple[float, str]] = {}
        reasons: dict[str, tuple[UnassignedReason, str]] = {
            m: ("no_candidate", "matching has no profile of this person yet")
            for m in ids
            if m not in known
        }
        for skill_id in programme.goal_skills:
            found = candidate_pairs(
                [self._mentee(m, skill_id, programme) for m in known],
                self.sync.index,
                weights=self.policy.weights,
                now=now,
                top_k=top_k or TOP_K,
                org=view.org,
                rules=view.rules,
                mentors=programme.mentors,
            )
            pairs = found.pairs
            for row, (a, b, s) in enumerate(
                zip(pairs.mentee.tolist(), pairs.mentor.tolist(), pairs.score.tolist(), strict=True)
            ):
                key = (pairs.mentees[a], pairs.mentors[b])
                if key not in best or s > best[key][0]:
                    best[key] = (s, found.skills[row])
            for mentee_id, why in found.reasons.items():
                reasons.setdefault(mentee_id, why)
        with_pairs = {mentee for mentee, _ in best}
        reasons = {m: r for m, r in reasons.items() if m not in with_pairs}
        pairs = Pairs.of(((a, b, s) for (a, b), (s, _) in best.items()), mentees=ids)
        mine = set(ids)
        problem = Problem(
            pairs,
            {m: programme.capacity_of(m) for m in pairs.mentors},
            {m: c.team for m in pairs.mentees if (c := self.sync.index.get(m))},
            pins=frozenset(p for p in programme.pins if p[0] in mine),
            forbids=frozenset(p for p in programme.forbids if p[0] in mine),
            reasons=reasons,
            options=Options(fairness=programme.fairness, per_team=programme.per_team),
        )
        return problem, {k: skill for k, (_, skill) in best.items()}

    async def _run(
        self,
        programme_id: str,
        decide: Callable[[Programme], Awaitable[list[Event]]],
        expected_version: int | None,
    ) -> Programme:
        for _ in range(MAX_SAVE_TRIES):
            programme = await self.get(programme_id)
            if expected_version is not None and programme.version != expected_version:
                raise StaleVersionError(
                    f"programme {programme_id} is at version {programme.version}, "
                    f"not {expected_version}: reload it and try again"
                )
            events = await decide(programme)
            if await self.store.save(programme, events):
                self.on_outbox(programme_id)
                return programme
        raise StaleVersionError(f"programme {programme_id} is changing too fast; try again")


def _pair(scored: Scored, mentee_id: str) -> PlannedPair:
    return PlannedPair(
        mentee_id=mentee_id,
        mentor_id=scored.candidate.person_id,
        skill_id=scored.skill_id,
        score=scored.score,
        breakdown=[
            ScoreComponent(
                name=c.name,
                weight=c.weight,
                value=round(c.value, 4),
                contribution=round(c.contribution, 4),
                explanation=c.explanation,
            )
            for c in scored.components
        ],
    )


def _goal_of(offered: str, programme: Programme, sync: IndexSync) -> str:
    """The goal skill a pair was found for: the offered one, or the goal it relates to."""
    if offered in programme.goal_skills:
        return offered
    return next(
        (g for g in programme.goal_skills if offered in sync.index.related(g)),
        programme.goal_skills[0],
    )


def _people(problem: Problem) -> set[str]:
    return set(problem.pairs.mentees) | set(problem.pairs.mentors)


def _number(value: float) -> float | None:
    return None if np.isnan(value) else value
