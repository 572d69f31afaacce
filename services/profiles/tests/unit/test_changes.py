"""Each change to a person: the new state, the events it publishes, and what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
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
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_profiles.domain import changes
from peerloop_profiles.domain.changes import Decision
from peerloop_profiles.domain.errors import (
    GoalNotSet,
    PersonErased,
    RuleViolation,
    SelfTaughtSession,
    SkillNotOffered,
)
from peerloop_profiles.domain.model import (
    LearningGoal,
    OfferedSkill,
    Person,
    ProfileDetails,
    Status,
)

ADA = ProfileDetails(
    display_name="Ada Lovelace",
    email="ada@example.com",
    team="billing",
    manager_id="p-boss",
    location="London",
    time_zone="Europe/London",
    languages=("en", "fr"),
)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _ada() -> Person:
    return changes.register("p-ada", ADA, weekly_capacity=2).person


def _session(
    session_id: str = "s-1", learner: str = "p-ada", teacher: str = "p-tim"
) -> SessionCompleted:
    return SessionCompleted(
        request_id="r-1",
        requester_id=learner,
        session_id=session_id,
        learner_id=learner,
        teacher_id=teacher,
        skill_id="mongodb",
        level=2,
        duration_minutes=45,
        completed_at=NOW,
        sequence=6,
    )


def test_register_publishes_the_profile_and_the_availability_in_sequence() -> None:
    decision = changes.register(
        "p-ada",
        ADA,
        weekly_capacity=3,
        away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))],
    )
    registered, availability = decision.events
    assert isinstance(registered, ProfileRegistered)
    assert registered.model_dump(exclude={"sequence"}) == {
        "person_id": "p-ada",
        "display_name": "Ada Lovelace",
        "email": "ada@example.com",
        "team": "billing",
        "manager_id": "p-boss",
        "location": "London",
        "time_zone": "Europe/London",
        "working_hours": {"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]},
        "languages": ["en", "fr"],
    }
    assert isinstance(availability, AvailabilityChanged)
    assert availability.weekly_capacity == 3
    assert availability.away_periods == [AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))]
    assert [e.sequence for e in decision.events] == [1, 2]
    assert decision.person.sequence == 2


@pytest.mark.parametrize(
    ("details", "capacity", "field"),
    [
        (ADA.model_copy(update={"time_zone": "Europe/Atlantis"}), 2, "time_zone"),
        (ADA.model_copy(update={"manager_id": "p-ada"}), 2, "manager_id"),
        (ADA, -1, "weekly_capacity"),
        (ADA.model_copy(update={"email": "not-an-address"}), 2, "email"),
        (ADA.model_copy(update={"display_name": "x" * 201}), 2, "display_name"),
    ],
)
def test_register_refuses_invalid_profiles(
    details: ProfileDetails, capacity: int, field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        changes.register("p-ada", details, weekly_capacity=capacity)
    assert caught.value.field == field


def test_update_publishes_the_whole_new_profile() -> None:
    ada = _ada()
    decision = changes.update_profile(ada, ADA.model_copy(update={"team": "payments"}))
    [event] = decision.events
    assert isinstance(event, ProfileUpdated)
    assert (event.team, event.display_name, event.sequence) == ("payments", "Ada Lovelace", 3)
    assert decision.person.details is not None
    assert decision.person.details.team == "payments"


def test_an_update_that_changes_nothing_publishes_nothing() -> None:
    ada = _ada()
    assert changes.update_profile(ada, ADA) == Decision(ada)


def test_update_refuses_an_invalid_time_zone() -> None:
    with pytest.raises(RuleViolation, match="time_zone"):
        changes.update_profile(_ada(), ADA.model_copy(update={"time_zone": "GMT+2"}))


def test_offering_a_skill_publishes_it_with_its_catalogue_name() -> None:
    offer = OfferedSkill(
        skill_id="kubernetes", level=4, description="helm charts", weekly_capacity=2
    )
    decision = changes.offer_skill(_ada(), offer)
    [event] = decision.events
    assert event == SkillOffered(
        person_id="p-ada",
        skill_id="kubernetes",
        skill_name="Kubernetes",
        level=4,
        description="helm charts",
        willing_to_teach=True,
        weekly_capacity=2,
        sequence=3,
    )
    assert decision.person.skills_offered == (offer,)


def test_offering_an_offered_skill_again_replaces_it() -> None:
    ada = changes.offer_skill(_ada(), OfferedSkill(skill_id="kubernetes", level=2)).person
    ada = changes.offer_skill(ada, OfferedSkill(skill_id="python", level=5)).person
    decision = changes.offer_skill(
        ada, OfferedSkill(skill_id="kubernetes", level=4, willing_to_teach=False)
    )
    assert [(s.skill_id, s.level) for s in decision.person.skills_offered] == [
        ("python", 5),
        ("kubernetes", 4),
    ]
    [event] = decision.events
    assert isinstance(event, SkillOffered)
    assert (event.level, event.willing_to_teach, event.sequence) == (4, False, 5)


def test_offering_the_same_offer_again_publishes_nothing() -> None:
    ada = changes.offer_skill(_ada(), OfferedSkill(skill_id="go", level=3)).person
    assert not changes.offer_skill(ada, OfferedSkill(skill_id="go", level=3)).changed


@pytest.mark.parametrize(
    ("offer", "field"),
    [
        (OfferedSkill(skill_id="go", level=0), "level"),
        (OfferedSkill(skill_id="go", level=6), "level"),
        (OfferedSkill(skill_id="go", level=3, weekly_capacity=-1), "weekly_capacity"),
        (OfferedSkill(skill_id="go", level=3, weekly_capacity=51), "weekly_capacity"),
        (OfferedSkill(skill_id="go", level=3, description="x" * 2001), "description"),
    ],
)
def test_offers_out_of_range_are_refused(offer: OfferedSkill, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        changes.offer_skill(_ada(), offer)
    assert caught.value.field == field


def test_updating_an_offer_that_does_not_exist_is_refused() -> None:
    with pytest.raises(SkillNotOffered):
        changes.offer_skill(_ada(), OfferedSkill(skill_id="go", level=3), replace_only=True)


def test_withdrawing_a_skill() -> None:
    ada = changes.offer_skill(_ada(), OfferedSkill(skill_id="go", level=3)).person
    decision = changes.withdraw_skill(ada, "go")
    assert decision.person.skills_offered == ()
    assert decision.events == (SkillWithdrawn(person_id="p-ada", skill_id="go", sequence=4),)
    with pytest.raises(SkillNotOffered):
        changes.withdraw_skill(decision.person, "go")


def test_learning_goals_are_set_replaced_and_removed() -> None:
    ada = changes.set_learning_goal(_ada(), LearningGoal(skill_id="rust", target_level=2)).person
    decision = changes.set_learning_goal(ada, LearningGoal(skill_id="rust", target_level=4))
    assert decision.person.learning_goals == (LearningGoal(skill_id="rust", target_level=4),)
    assert decision.events == (
        LearningGoalSet(person_id="p-ada", skill_id="rust", target_level=4, sequence=4),
    )
    removed = changes.remove_learning_goal(decision.person, "rust")
    assert removed.person.learning_goals == ()
    assert removed.events == (LearningGoalRemoved(person_id="p-ada", skill_id="rust", sequence=5),)
    with pytest.raises(GoalNotSet):
        changes.remove_learning_goal(removed.person, "rust")


@pytest.mark.parametrize("target", [0, 6])
def test_learning_goal_levels_are_in_range(target: int) -> None:
    with pytest.raises(RuleViolation, match="target_level"):
        changes.set_learning_goal(_ada(), LearningGoal(skill_id="rust", target_level=target))


def test_availability_publishes_capacity_hours_zone_and_sorted_away_periods() -> None:
    later = AwayPeriod(start=date(2027, 3, 1), end=date(2027, 3, 5))
    sooner = AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))
    hours = WorkingHours(start="10:00", end="18:00", days=[1, 2, 3, 4])
    decision = changes.set_availability(
        _ada(),
        weekly_capacity=4,
        away_periods=[later, sooner],
        working_hours=hours,
        time_zone="Asia/Kolkata",
    )
    assert decision.events == (
        AvailabilityChanged(
            person_id="p-ada",
            weekly_capacity=4,
            time_zone="Asia/Kolkata",
            working_hours=hours,
            away_periods=[sooner, later],
            sequence=3,
        ),
    )
    assert not changes.set_availability(
        decision.person, weekly_capacity=4, away_periods=[sooner, later]
    ).changed


@pytest.mark.parametrize(
    ("capacity", "zone", "field"), [(-1, None, "weekly_capacity"), (2, "Nowhere/Land", "time_zone")]
)
def test_availability_refuses_bad_values(capacity: int, zone: str | None, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        changes.set_availability(_ada(), weekly_capacity=capacity, away_periods=[], time_zone=zone)
    assert caught.value.field == field


def test_status_is_away_within_an_away_period_and_erased_after_erasure() -> None:
    ada = changes.set_availability(
        _ada(),
        weekly_capacity=2,
        away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))],
    ).person
    assert ada.status_on(date(2026, 12, 19)) is Status.ACTIVE
    assert ada.status_on(date(2026, 12, 20)) is Status.AWAY
    assert ada.status_on(date(2027, 1, 2)) is Status.AWAY
    assert ada.status_on(date(2027, 1, 3)) is Status.ACTIVE
    assert changes.erase(ada, NOW).person.status_on(date(2026, 12, 25)) is Status.ERASED


@pytest.mark.parametrize(
    ("steps", "capacities", "status"),
    [
        ([False], [0], Status.INACTIVE),
        ([False, False], [0], Status.INACTIVE),  # the same again publishes nothing
        ([False, True], [0, 2], Status.ACTIVE),  # the person's own capacity comes back
        ([True], [], Status.ACTIVE),
    ],
)
def test_deactivation_publishes_availability_without_capacity(
    steps: list[bool], capacities: list[int], status: Status
) -> None:
    ada = _ada()
    published: list[int] = []
    for active in steps:
        decision = changes.set_active(ada, active)
        ada = decision.person
        published += [
            e.weekly_capacity for e in decision.events if isinstance(e, AvailabilityChanged)
        ]
    assert published == capacities
    assert ada.status_on(date(2026, 12, 1)) is status
    assert ada.weekly_capacity == 2


def test_availability_set_while_inactive_still_publishes_no_capacity() -> None:
    ada = changes.set_active(_ada(), False).person
    decision = changes.set_availability(ada, weekly_capacity=5, away_periods=[])
    assert [getattr(e, "weekly_capacity", None) for e in decision.events] == [0]
    assert decision.person.weekly_capacity == 5


def test_erasure_removes_everything_personal_and_publishes_profile_erased() -> None:
    ada = changes.offer_skill(
        _ada(), OfferedSkill(skill_id="go", level=3, description="ask me")
    ).person
    ada = changes.set_learning_goal(ada, LearningGoal(skill_id="rust", target_level=2)).person
    ada = changes.record_learning(ada, _session()).person
    decision = changes.erase(ada, NOW)
    assert decision.person == Person(person_id="p-ada", details=None, sequence=6, erased_at=NOW)
    assert decision.events == (ProfileErased(person_id="p-ada", sequence=6),)
    assert not changes.erase(decision.person, NOW).changed


ERASED_REFUSES: list[Callable[[Person], Decision]] = [
    lambda p: changes.update_profile(p, ADA),
    lambda p: changes.offer_skill(p, OfferedSkill(skill_id="go", level=3)),
    lambda p: changes.withdraw_skill(p, "go"),
    lambda p: changes.set_active(p, False),
    lambda p: changes.set_learning_goal(p, LearningGoal(skill_id="go", target_level=3)),
    lambda p: changes.remove_learning_goal(p, "go"),
    lambda p: changes.set_availability(p, weekly_capacity=1, away_periods=[]),
]


@pytest.mark.parametrize("change", ERASED_REFUSES)
def test_an_erased_person_accepts_no_changes(change: Callable[[Person], Decision]) -> None:
    erased = changes.erase(_ada(), NOW).person
    with pytest.raises(PersonErased):
        change(erased)


def test_a_completed_session_gives_the_learner_the_skill_once() -> None:
    decision = changes.record_learning(_ada(), _session())
    [event] = decision.events
    assert event == SkillAcquired(
        person_id="p-ada",
        skill_id="mongodb",
        skill_name="MongoDB",
        level=2,
        teacher_id="p-tim",
        session_id="s-1",
        acquired_at=NOW,
        sequence=3,
    )
    assert [s.skill_id for s in decision.person.skills_learned] == ["mongodb"]
    assert changes.record_learning(decision.person, _session()) == Decision(decision.person)
    again = changes.record_learning(decision.person, _session("s-2"))
    assert [s.session_id for s in again.person.skills_learned] == ["s-1", "s-2"]


def test_a_learned_skill_can_be_offered_onward() -> None:
    learned = changes.record_learning(_ada(), _session()).person
    decision = changes.offer_skill(learned, OfferedSkill(skill_id="mongodb", level=2))
    assert [e.event_name for e in decision.events] == ["skill-offered"]


def test_a_completed_session_counts_once_for_the_teacher_and_publishes_nothing() -> None:
    tim = changes.register("p-tim", ADA, weekly_capacity=2).person
    taught = changes.record_teaching(tim, _session())
    assert taught.person.sessions_taught == ("s-1",)
    assert taught.events == ()
    assert changes.record_teaching(taught.person, _session()).person == taught.person


def test_a_session_with_the_same_learner_and_teacher_is_refused() -> None:
    with pytest.raises(SelfTaughtSession):
        changes.record_learning(_ada(), _session(learner="p-ada", teacher="p-ada"))


def test_sessions_about_an_erased_person_change_nothing() -> None:
    erased = changes.erase(_ada(), NOW).person
    assert changes.record_learning(erased, _session()) == Decision(erased)
    assert changes.record_teaching(erased, _session(learner="p-x", teacher="p-ada")) == Decision(
        erased
    )


def test_every_change_with_events_states_the_person_after_them() -> None:
    registered = changes.register("p-1", ADA, weekly_capacity=2)
    offered = changes.offer_skill(registered.person, OfferedSkill(skill_id="go", level=3))
    assert offered.state is not None
    assert offered.state.sequence == offered.events[-1].sequence == offered.person.sequence
    assert [(o.skill_id, o.skill_name, o.level) for o in offered.state.offers] == [("go", "Go", 3)]
    assert "email" not in offered.state.model_dump()
    assert changes.erase(offered.person, datetime(2026, 1, 1, tzinfo=UTC)).state is None


def test_a_change_the_state_cannot_carry_is_refused_like_one_the_events_cannot() -> None:
    person = changes.register("p-1", ADA, weekly_capacity=2).person
    for index in range(200):
        person = changes.offer_skill(person, OfferedSkill(skill_id=f"s{index}", level=1)).person
    with pytest.raises(RuleViolation, match="at most 200 items"):
        changes.offer_skill(person, OfferedSkill(skill_id="one-too-many", level=1))


def test_the_state_of_a_deactivated_person_offers_no_capacity_and_keeps_their_manager() -> None:
    from peerloop_profiles.domain.state import person_state

    ada = changes.set_active(_ada(), False).person
    ada = ada.model_copy(
        update={"details": ada.details.model_copy(update={"manager_id": "p-boss"})}  # type: ignore[union-attr]
    )
    state = person_state(ada)
    assert (state.weekly_capacity, state.manager_id) == (0, "p-boss")
    assert person_state(changes.set_active(ada, True).person).weekly_capacity == 2


def test_the_state_marks_private_offers_and_carries_the_pause() -> None:
    from peerloop_profiles.domain.state import person_state

    ada = changes.offer_skill(
        _ada(), OfferedSkill(skill_id="kubernetes", level=2, private=True)
    ).person
    ada = changes.set_availability(
        ada, weekly_capacity=2, away_periods=[], proposals_paused_until=date(2027, 1, 10)
    ).person
    state = person_state(ada)
    assert [(o.skill_id, o.private) for o in state.offers] == [("kubernetes", True)]
    assert state.proposals_paused_until == date(2027, 1, 10)
