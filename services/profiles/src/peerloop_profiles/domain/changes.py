"""Every change to a person, as a pure function: (person, input) -> Decision.

A decision holds the new state and the events it publishes, each with the next
`sequence` of the person. A change that changes nothing publishes nothing, so
repeating a request (or replaying an event) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from peerloop_contracts.base import Event
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    LearningGoalRemoved,
    LearningGoalSet,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillEvidenceChanged,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_contracts.states import PersonState
from pydantic import ValidationError

from peerloop_profiles.domain.errors import (
    GoalNotSet,
    PersonErased,
    RuleViolation,
    SelfTaughtSession,
    SkillNotOffered,
)
from peerloop_profiles.domain.model import (
    LearnedSkill,
    LearningGoal,
    OfferedSkill,
    Person,
    ProfileDetails,
    SkillEvidence,
)
from peerloop_profiles.domain.rules import (
    check_capacity,
    check_level,
    check_time_zone,
    skill_name,
)
from peerloop_profiles.domain.state import person_state

EventFactory = Callable[[Person, int], Event]


@dataclass(frozen=True)
class Decision:
    person: Person
    events: tuple[Event, ...] = ()
    state: PersonState | None = None
    """The person's published state after the events; None when nothing is published, or
    when the person was erased (their state becomes a tombstone)."""

    @property
    def changed(self) -> bool:
        return bool(self.events)


def register(
    person_id: str,
    details: ProfileDetails,
    *,
    weekly_capacity: int,
    away_periods: Iterable[AwayPeriod] = (),
) -> Decision:
    """A new person. Availability is published too, so subscribers never guess a capacity."""
    _check_details(person_id, details)
    person = Person(
        person_id=person_id,
        details=details,
        weekly_capacity=check_capacity(weekly_capacity),
        away_periods=tuple(away_periods),
    )
    return _emit(person, _profile_snapshot(ProfileRegistered), _availability)


def update_profile(person: Person, details: ProfileDetails) -> Decision:
    current = _details(person)
    _check_details(person.person_id, details)
    if details == current:
        return Decision(person)
    return _emit(person.model_copy(update={"details": details}), _profile_snapshot(ProfileUpdated))


def offer_skill(person: Person, offer: OfferedSkill, *, replace_only: bool = False) -> Decision:
    """Offer a skill; offering one already offered replaces it (no duplicates).

    `replace_only` is for an update of an existing offer: an unknown skill is refused.
    """
    _details(person)
    check_level(offer.level)
    check_capacity(offer.weekly_capacity)
    existing = person.offered(offer.skill_id)
    if existing is None and replace_only:
        raise SkillNotOffered(person.person_id, offer.skill_id)
    if existing == offer:
        return Decision(person)
    others = tuple(s for s in person.skills_offered if s.skill_id != offer.skill_id)
    changed = person.model_copy(update={"skills_offered": (*others, offer)})

    def event(p: Person, seq: int) -> Event:
        return SkillOffered(
            person_id=p.person_id,
            skill_id=offer.skill_id,
            skill_name=skill_name(offer.skill_id),
            level=offer.level,
            description=offer.description,
            willing_to_teach=offer.willing_to_teach,
            weekly_capacity=offer.weekly_capacity,
            private=offer.private,
            sequence=seq,
        )

    return _emit(changed, event)


def withdraw_skill(person: Person, skill_id: str) -> Decision:
    _details(person)
    if person.offered(skill_id) is None:
        raise SkillNotOffered(person.person_id, skill_id)
    remaining = tuple(s for s in person.skills_offered if s.skill_id != skill_id)
    return _emit(
        person.model_copy(update={"skills_offered": remaining}),
        lambda p, seq: SkillWithdrawn(person_id=p.person_id, skill_id=skill_id, sequence=seq),
    )


def set_learning_goal(person: Person, goal: LearningGoal) -> Decision:
    _details(person)
    check_level(goal.target_level, "target_level")
    if person.goal(goal.skill_id) == goal:
        return Decision(person)
    others = tuple(g for g in person.learning_goals if g.skill_id != goal.skill_id)
    return _emit(
        person.model_copy(update={"learning_goals": (*others, goal)}),
        lambda p, seq: LearningGoalSet(
            person_id=p.person_id,
            skill_id=goal.skill_id,
            target_level=goal.target_level,
            sequence=seq,
        ),
    )


def remove_learning_goal(person: Person, skill_id: str) -> Decision:
    _details(person)
    if person.goal(skill_id) is None:
        raise GoalNotSet(person.person_id, skill_id)
    remaining = tuple(g for g in person.learning_goals if g.skill_id != skill_id)
    return _emit(
        person.model_copy(update={"learning_goals": remaining}),
        lambda p, seq: LearningGoalRemoved(person_id=p.person_id, skill_id=skill_id, sequence=seq),
    )


def set_availability(
    person: Person,
    *,
    weekly_capacity: int,
    away_periods: Iterable[AwayPeriod],
    working_hours: WorkingHours | None = None,
    time_zone: str | None = None,
    proposals_paused_until: date | None = None,
) -> Decision:
    """Hours and time zone are optional here: left out, they stay as they are. Like the
    away periods, a pause is replaced by every change: left out, proposals resume."""
    details = _details(person)
    check_capacity(weekly_capacity)
    new_details = details.model_copy(
        update={
            "working_hours": working_hours or details.working_hours,
            "time_zone": check_time_zone(time_zone) if time_zone else details.time_zone,
        }
    )
    changed = person.model_copy(
        update={
            "details": new_details,
            "weekly_capacity": weekly_capacity,
            "away_periods": tuple(sorted(away_periods, key=lambda p: (p.start, p.end))),
            "proposals_paused_until": proposals_paused_until,
        }
    )
    if changed == person:
        return Decision(person)
    return _emit(changed, _availability)


def set_active(person: Person, active: bool) -> Decision:
    """Deactivation (by the identity system) takes the person out of matching at once.

    Published as availability with no capacity, the signal matching already acts on;
    reactivation publishes the person's own capacity again. Nothing else changes.
    """
    _details(person)
    if person.active == active:
        return Decision(person)
    return _emit(person.model_copy(update={"active": active}), _availability)


def record_learning(person: Person, session: SessionCompleted) -> Decision:
    """The learner of a completed session gains its skill, once per session."""
    if session.learner_id == session.teacher_id:
        raise SelfTaughtSession(session.session_id)
    if person.erased or person.learned_in(session.session_id) is not None:
        return Decision(person)
    learned = LearnedSkill(
        skill_id=session.skill_id,
        level=session.level,
        teacher_id=session.teacher_id,
        session_id=session.session_id,
        acquired_at=session.completed_at,
    )
    return _emit(
        person.model_copy(update={"skills_learned": (*person.skills_learned, learned)}),
        lambda p, seq: SkillAcquired(
            person_id=p.person_id,
            skill_id=learned.skill_id,
            skill_name=skill_name(learned.skill_id),
            level=learned.level,
            teacher_id=learned.teacher_id,
            session_id=learned.session_id,
            acquired_at=learned.acquired_at,
            sequence=seq,
        ),
    )


def record_teaching(person: Person, session: SessionCompleted) -> Decision:
    """The teacher's sessions-taught count goes up once per session; nothing is published.

    The result is a changed person without events, so callers check `person`, not `changed`.
    """
    if session.learner_id == session.teacher_id:
        raise SelfTaughtSession(session.session_id)
    if person.erased or session.session_id in person.sessions_taught:
        return Decision(person)
    return Decision(
        person.model_copy(update={"sessions_taught": (*person.sessions_taught, session.session_id)})
    )


def record_evidence(
    person: Person, evidence: SkillEvidence | None, half_life_days: float
) -> Decision:
    """The person's evidence of a skill, recomputed from its items: published when it changed.

    None (no item counts yet, such as a rating that arrived before its session) and the
    same summary again change nothing, so redeliveries publish nothing more.
    """
    if person.erased or evidence is None or person.evidence_for(evidence.skill_id) == evidence:
        return Decision(person)
    others = tuple(e for e in person.evidence if e.skill_id != evidence.skill_id)

    def event(p: Person, seq: int) -> Event:
        return SkillEvidenceChanged(
            person_id=p.person_id,
            skill_id=evidence.skill_id,
            skill_name=skill_name(evidence.skill_id),
            half_life_days=half_life_days,
            sequence=seq,
            **evidence.model_dump(exclude={"skill_id"}),
        )

    return _emit(person.model_copy(update={"evidence": (*others, evidence)}), event)


def erase(person: Person, at: datetime) -> Decision:
    """GDPR erasure: everything about the person goes; only the id, version and sequence stay.

    The id stays so the person cannot be re-registered by accident and late events
    about them are recognised and ignored. Erasing twice publishes nothing more.
    """
    if person.erased:
        return Decision(person)
    tombstone = Person(
        person_id=person.person_id,
        details=None,
        version=person.version,
        sequence=person.sequence,
        erased_at=at,
    )
    return _emit(tombstone, lambda p, seq: ProfileErased(person_id=p.person_id, sequence=seq))


def _details(person: Person) -> ProfileDetails:
    """The details of a person who may still change: an erased person may not."""
    if person.details is None:
        raise PersonErased(person.person_id)
    return person.details


def _check_details(person_id: str, details: ProfileDetails) -> None:
    check_time_zone(details.time_zone)
    if details.manager_id == person_id:
        raise RuleViolation("manager_id", "a person cannot be their own manager")


def _profile_snapshot(
    kind: type[ProfileRegistered] | type[ProfileUpdated],
) -> EventFactory:
    def event(p: Person, seq: int) -> Event:
        d = _details(p)
        return kind(
            person_id=p.person_id,
            display_name=d.display_name,
            email=d.email,
            team=d.team,
            manager_id=d.manager_id,
            location=d.location,
            time_zone=d.time_zone,
            working_hours=d.working_hours,
            languages=list(d.languages),
            sequence=seq,
        )

    return event


def _availability(p: Person, seq: int) -> Event:
    d = _details(p)
    return AvailabilityChanged(
        person_id=p.person_id,
        weekly_capacity=p.bookable_capacity,
        time_zone=d.time_zone,
        working_hours=d.working_hours,
        away_periods=list(p.away_periods),
        proposals_paused_until=p.proposals_paused_until,
        sequence=seq,
    )


def _emit(person: Person, *factories: EventFactory) -> Decision:
    """Number the events after the person's last one, and state the person after them;
    the contract is the last check."""
    first = person.sequence + 1
    advanced = person.model_copy(update={"sequence": person.sequence + len(factories)})
    events: list[Event] = []
    state: PersonState | None = None
    try:
        for offset, factory in enumerate(factories):
            events.append(factory(advanced, first + offset))
        if not advanced.erased:
            # A change the state topic cannot carry (too many offers) is refused like one
            # the change events cannot.
            state = person_state(advanced)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        raise RuleViolation(field, error["msg"]) from exc
    return Decision(advanced, tuple(events), state)
