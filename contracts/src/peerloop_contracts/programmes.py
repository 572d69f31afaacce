"""Events of programmes: whole-cohort matching, published by the matching service.

Key and `ce_subject`: `programme_id`; one sequence per programme, so a subscriber sees
a programme's steps in order. The proposals a published programme makes are ordinary
help requests (`match-proposed` and the rest, keyed by `request_id`); a
`programme-pair-proposed` links each one to its programme.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from peerloop_contracts.base import Event
from peerloop_contracts.common import (
    TEXT,
    Count,
    EntityId,
    Label,
    PersonId,
    SkillId,
    at_most,
)
from peerloop_contracts.matching import OWNER

MAX_GOAL_SKILLS = 20

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
UnassignedReason = Literal[
    "no_candidate", "excluded_by_rules", "forbidden", "below_floor", "candidates_full"
]
Adjustment = Literal["pin", "unpin", "forbid", "unforbid", "capacity"]


class _ProgrammeEvent(Event):
    owner: ClassVar[str] = OWNER
    aggregate: ClassVar[str] = "programme_id"

    programme_id: EntityId = Field(min_length=1)


class ProgrammeCreated(_ProgrammeEvent):
    """An admin created a programme (draft). Emitted by matching. Key: `programme_id`.

    Example: `{"programme_id": "pg-1", "name": "Kafka circle", "goal_skills": ["kafka"],
    "cohort_size": 40, "mentor_pool": "offering", "starts_on": "2027-01-04",
    "ends_on": "2027-03-31", "created_by": "p-1", "sequence": 1}`
    """

    event_name: ClassVar[str] = "programme-created"

    name: Label
    goal_skills: Annotated[list[SkillId], at_most(MAX_GOAL_SKILLS)]
    cohort_size: Count
    mentor_pool: Literal["opted_in", "offering"] = Field(
        description="`opted_in`: a list of people; `offering`: anyone offering a goal skill"
    )
    starts_on: date
    ends_on: date
    created_by: PersonId


class ProgrammePreviewed(_ProgrammeEvent):
    """A preview solved the assignment; the figures a programme owner reads.

    Emitted by matching. Key: `programme_id`. Scores are 0..1; the shares and scores are
    null when nobody could be paired.
    Example: `{"programme_id": "pg-1", "pairs": 38, "unassigned": 2, "mean_score": 0.71,
    "worst_score": 0.52, "max_load": 3, "load_gini": 0.21, "cross_team_share": 0.8,
    "overlap_share": 0.95, "sequence": 2}`
    """

    event_name: ClassVar[str] = "programme-previewed"

    pairs: Count
    unassigned: Count
    mean_score: float | None = Field(default=None, allow_inf_nan=False)
    worst_score: float | None = Field(default=None, allow_inf_nan=False)
    max_load: Count = 0
    load_gini: Share = 0.0
    cross_team_share: Share | None = None
    overlap_share: Share | None = None


class ProgrammeAdjusted(_ProgrammeEvent):
    """An admin pinned, forbade or released a pair, or changed a mentor's capacity; the
    programme needs a new preview before it is published. Emitted by matching.
    Key: `programme_id`.

    Example: `{"programme_id": "pg-1", "change": "pin", "mentee_id": "p-42",
    "mentor_id": "p-17", "capacity": null, "sequence": 3}`
    """

    event_name: ClassVar[str] = "programme-adjusted"

    change: Adjustment
    mentee_id: PersonId | None = None
    mentor_id: PersonId
    capacity: Count | None = None


class ProgrammePublished(_ProgrammeEvent):
    """The previewed assignment was published: each pair is proposed to its mentor.

    Emitted by matching. Key: `programme_id`.
    Example: `{"programme_id": "pg-1", "pairs": 38, "unassigned": 2, "sequence": 4}`
    """

    event_name: ClassVar[str] = "programme-published"

    pairs: Count
    unassigned: Count


class ProgrammePairProposed(_ProgrammeEvent):
    """A mentee's mentor was proposed through a help request (`request_id`): at publishing,
    or after the previous mentor declined or let the proposal expire (`attempt` > 1).

    Emitted by matching. Key: `programme_id`.
    Example: `{"programme_id": "pg-1", "mentee_id": "p-42", "mentor_id": "p-17",
    "request_id": "r-pg-1-p-42", "skill_id": "kafka", "score": 0.74, "attempt": 1,
    "sequence": 5}`
    """

    event_name: ClassVar[str] = "programme-pair-proposed"

    mentee_id: PersonId
    mentor_id: PersonId
    request_id: EntityId
    skill_id: SkillId
    score: float = Field(allow_inf_nan=False)
    attempt: int = Field(ge=1, le=10_000)


class ProgrammeMenteeUnassigned(_ProgrammeEvent):
    """A published programme has no mentor for a mentee (left out by the assignment, or
    nobody with room after a decline), with the reason. Emitted by matching.
    Key: `programme_id`.

    Example: `{"programme_id": "pg-1", "mentee_id": "p-43", "reason": "candidates_full",
    "detail": "all 12 candidate mentor(s) are full", "sequence": 6}`
    """

    event_name: ClassVar[str] = "programme-mentee-unassigned"

    mentee_id: PersonId
    reason: UnassignedReason
    detail: Annotated[str, at_most(500), TEXT] = ""


class ProgrammeClosed(_ProgrammeEvent):
    """An admin closed the programme; its sessions go on, no mentee is placed again.

    Emitted by matching. Key: `programme_id`.
    Example: `{"programme_id": "pg-1", "sequence": 9}`
    """

    event_name: ClassVar[str] = "programme-closed"


EVENTS: tuple[type[Event], ...] = (
    ProgrammeCreated,
    ProgrammePreviewed,
    ProgrammeAdjusted,
    ProgrammePublished,
    ProgrammePairProposed,
    ProgrammeMenteeUnassigned,
    ProgrammeClosed,
)
