"""A person's published state: what the compacted `person-state` topic says about them.

The public part of the aggregate only: no e-mail address or location, and
nothing of what matching or notifications keep. Built after every change that
publishes events, from the person as stored, so the state and the change events it
follows never disagree.
"""

from __future__ import annotations

from peerloop_contracts.states import GoalState, LearnedState, OfferState, PersonState

from peerloop_profiles.domain.model import Person
from peerloop_profiles.domain.rules import skill_name


def person_state(person: Person) -> PersonState:
    """The state of a person who is not erased (an erased person's state is a tombstone)."""
    details = person.details
    if details is None:
        raise ValueError(f"{person.person_id} is erased: their state is a tombstone")
    return PersonState(
        person_id=person.person_id,
        display_name=details.display_name,
        team=details.team,
        manager_id=details.manager_id,
        time_zone=details.time_zone,
        working_hours=details.working_hours,
        languages=list(details.languages),
        weekly_capacity=person.bookable_capacity,
        away_periods=list(person.away_periods),
        proposals_paused_until=person.proposals_paused_until,
        offers=[
            OfferState(
                skill_id=o.skill_id,
                skill_name=skill_name(o.skill_id),
                level=o.level,
                description=o.description,
                willing_to_teach=o.willing_to_teach,
                weekly_capacity=o.weekly_capacity,
                private=o.private,
            )
            for o in person.skills_offered
        ],
        goals=[
            GoalState(skill_id=g.skill_id, target_level=g.target_level)
            for g in person.learning_goals
        ],
        learned=[
            LearnedState(
                skill_id=s.skill_id,
                skill_name=skill_name(s.skill_id),
                level=s.level,
                acquired_at=s.acquired_at,
            )
            for s in person.skills_learned
        ],
        sequence=person.sequence,
    )
