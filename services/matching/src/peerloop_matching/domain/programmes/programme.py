"""The programme aggregate: a cohort matched as a whole, from draft to closed.

draft → previewed (an assignment with every pair's breakdown and the figures) →
published (each pair proposed through a help request) → closed. Adjusting (pin,
forbid, capacity) is possible until publishing and takes the programme back to draft:
the preview shown no longer holds. Methods check the transition, change the state and
return the events; one sequence per programme.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Literal

from peerloop_contracts.base import Event
from peerloop_contracts.matching import ScoreComponent
from peerloop_contracts.programmes import (
    Adjustment,
    ProgrammeAdjusted,
    ProgrammeClosed,
    ProgrammeCreated,
    ProgrammeMenteeUnassigned,
    ProgrammePairProposed,
    ProgrammePreviewed,
    ProgrammePublished,
)
from pydantic import BaseModel, ConfigDict

from peerloop_matching.domain.errors import InvalidTransitionError
from peerloop_matching.domain.programmes.pairs import UnassignedReason
from peerloop_matching.domain.programmes.rules import TeamRule

ProgrammeState = Literal["draft", "previewed", "published", "closed"]
PairStatus = Literal["previewed", "proposed", "accepted", "unassigned"]


def programme_request_id(programme_id: str, mentee_id: str) -> str:
    """The help request a programme opens for a mentee: one per mentee, so publishing
    twice (a retry) opens none twice."""
    digest = hashlib.sha256(f"{programme_id}\x00{mentee_id}".encode()).hexdigest()
    return f"r-pg-{digest[:16]}"


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class PlannedPair(_State):
    mentee_id: str
    mentor_id: str
    skill_id: str
    score: float
    breakdown: list[ScoreComponent]
    pinned: bool = False
    request_id: str | None = None
    attempt: int = 1


class Unplaced(_State):
    mentee_id: str
    reason: UnassignedReason
    detail: str


class ProgrammeFigures(_State):
    pairs: int
    mean_score: float | None
    worst_score: float | None
    max_load: int
    load_gini: float
    cross_team_share: float | None
    overlap_share: float | None


class Programme(_State):
    programme_id: str
    sequence: int = 0
    version: int = 0
    state: ProgrammeState = "draft"
    name: str
    goal_skills: list[str]
    level: int = 2
    """The level a mentor offers a goal skill at, at least."""
    cohort: list[str]
    cohort_team: str | None = None
    mentors: list[str] | None = None
    """Opted-in mentors; None: anyone offering a goal skill."""
    capacity: int
    """Mentees each mentor takes in this programme, unless `capacities` says otherwise."""
    capacities: dict[str, int] = {}
    starts_on: date
    ends_on: date
    team_rule: TeamRule = "any"
    fairness: bool = False
    per_team: int | None = None
    created_by: str
    created_at: datetime
    pins: list[tuple[str, str]] = []
    forbids: list[tuple[str, str]] = []
    pairs: list[PlannedPair] = []
    unassigned: list[Unplaced] = []
    figures: ProgrammeFigures | None = None
    previewed_at: datetime | None = None
    published_at: datetime | None = None

    # -- queries ---------------------------------------------------------------------------

    def capacity_of(self, mentor_id: str) -> int:
        return self.capacities.get(mentor_id, self.capacity)

    def pair_of(self, mentee_id: str) -> PlannedPair | None:
        return next((p for p in self.pairs if p.mentee_id == mentee_id), None)

    # -- transitions -----------------------------------------------------------------------

    @classmethod
    def create(cls, **fields: object) -> tuple[Programme, list[Event]]:
        programme = cls.model_validate(fields)
        if programme.ends_on < programme.starts_on:
            raise InvalidTransitionError("a programme cannot end before it starts")
        if not programme.cohort:
            raise InvalidTransitionError("the cohort is empty: nobody to match")
        return programme, [
            programme._emit(
                ProgrammeCreated,
                name=programme.name,
                goal_skills=programme.goal_skills,
                cohort_size=len(programme.cohort),
                mentor_pool="offering" if programme.mentors is None else "opted_in",
                starts_on=programme.starts_on,
                ends_on=programme.ends_on,
                created_by=programme.created_by,
            )
        ]

    def preview(
        self,
        pairs: list[PlannedPair],
        unassigned: list[Unplaced],
        figures: ProgrammeFigures,
        *,
        now: datetime,
    ) -> list[Event]:
        self._still_open("preview")
        self.pairs, self.unassigned, self.figures = pairs, unassigned, figures
        self.state = "previewed"
        self.previewed_at = now
        return [
            self._emit(
                ProgrammePreviewed,
                pairs=len(pairs),
                unassigned=len(unassigned),
                **figures.model_dump(exclude={"pairs"}),
            )
        ]

    def adjust(
        self,
        change: Adjustment,
        *,
        mentor_id: str,
        mentee_id: str | None = None,
        capacity: int | None = None,
    ) -> list[Event]:
        self._still_open("adjust")
        if change == "capacity":
            if capacity is None or capacity < 0:
                raise InvalidTransitionError("a capacity change needs a capacity of 0 or more")
            self.capacities[mentor_id] = capacity
        else:
            if mentee_id is None:
                raise InvalidTransitionError(f"{change} needs a mentee_id")
            if mentee_id not in self.cohort:
                raise InvalidTransitionError(f"{mentee_id} is not in the programme's cohort")
            pair = (mentee_id, mentor_id)
            if change == "pin":
                if pair in self.forbids:
                    raise InvalidTransitionError(f"{mentee_id} → {mentor_id} is forbidden")
                self.pins = [p for p in self.pins if p[0] != mentee_id] + [pair]
            elif change == "forbid":
                if pair in self.pins:
                    raise InvalidTransitionError(f"{mentee_id} → {mentor_id} is pinned")
                self.forbids = [*(p for p in self.forbids if p != pair), pair]
            elif change == "unpin":
                self.pins = [p for p in self.pins if p != pair]
            else:
                self.forbids = [p for p in self.forbids if p != pair]
        self.state = "draft"
        return [
            self._emit(
                ProgrammeAdjusted,
                change=change,
                mentee_id=mentee_id if change != "capacity" else None,
                mentor_id=mentor_id,
                capacity=capacity if change == "capacity" else None,
            )
        ]

    def publish(self, *, now: datetime) -> list[Event]:
        if self.state != "previewed":
            raise InvalidTransitionError(
                f"only a previewed programme can be published; this one is {self.state}"
                + (" (adjusted since its preview: preview again)" if self.state == "draft" else "")
            )
        self.state = "published"
        self.published_at = now
        events = [
            self._emit(ProgrammePublished, pairs=len(self.pairs), unassigned=len(self.unassigned))
        ]
        for pair in self.pairs:
            pair.request_id = programme_request_id(self.programme_id, pair.mentee_id)
            events.append(self._pair_proposed(pair))
        events.extend(self._unassigned(u) for u in self.unassigned)
        return events

    def replace_mentor(
        self, mentee_id: str, pair: PlannedPair | None, why: Unplaced
    ) -> list[Event]:
        """After the mentee's mentor declined (or let the proposal expire): `pair` is the next
        mentor proposed through the same request, None when nobody has room (`why`)."""
        if self.state != "published":
            raise InvalidTransitionError(f"the programme is {self.state}, not published")
        current = self.pair_of(mentee_id)
        if current is None:
            raise InvalidTransitionError(f"{mentee_id} has no mentor in this programme")
        self.pairs = [p for p in self.pairs if p.mentee_id != mentee_id]
        if pair is None:
            self.unassigned.append(why)
            return [self._unassigned(why)]
        pair.request_id = current.request_id
        pair.attempt = current.attempt + 1
        self.pairs.append(pair)
        return [self._pair_proposed(pair)]

    def close(self) -> list[Event]:
        if self.state == "closed":
            raise InvalidTransitionError("the programme is closed already")
        self.state = "closed"
        return [self._emit(ProgrammeClosed)]

    # -- helpers ---------------------------------------------------------------------------

    def _still_open(self, what: str) -> None:
        if self.state in ("published", "closed"):
            raise InvalidTransitionError(f"cannot {what} a programme that is {self.state}")

    def _pair_proposed(self, pair: PlannedPair) -> Event:
        assert pair.request_id is not None
        return self._emit(
            ProgrammePairProposed,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            request_id=pair.request_id,
            skill_id=pair.skill_id,
            score=pair.score,
            attempt=pair.attempt,
        )

    def _unassigned(self, why: Unplaced) -> Event:
        return self._emit(
            ProgrammeMenteeUnassigned,
            mentee_id=why.mentee_id,
            reason=why.reason,
            detail=why.detail[:500],
        )

    def _emit(self, event_cls: type[Event], **fields: object) -> Event:
        self.sequence += 1
        return event_cls.model_validate(
            {"programme_id": self.programme_id, "sequence": self.sequence, **fields}
        )
