"""One realistic example of every event, built through its model so it is always valid.

The examples go into each committed schema (`examples`) for subscribers to read,
and the interoperability tests publish them to the real broker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from peerloop_contracts import matching, notifications, profiles, programmes, states
from peerloop_contracts.base import Event
from peerloop_contracts.common import AwayPeriod, WorkingHours

_WHEN = datetime(2026, 12, 3, 15, 10, tzinfo=UTC)

_ADA = {
    "person_id": "p-17",
    "display_name": "Ada Lovelace",
    "email": "ada@example.com",
    "team": "billing",
    "manager_id": "p-2",
    "location": "London",
    "time_zone": "Europe/London",
    "working_hours": WorkingHours(start="09:00", end="17:30", days=[1, 2, 3, 4, 5]),
    "languages": ["en", "fr"],
}
_REQUEST = {"request_id": "r-9", "requester_id": "p-42"}
_NOTIFICATION = {
    "notification_id": "n-5",
    "person_id": "p-17",
    "kind": "match-proposed",
    "channel": "email",
    "source_event_id": "6f1c9a52-4c1e-4b8e-9a53-0d2f7f2a1b10",
}


def _breakdown() -> list[matching.ScoreComponent]:
    return [
        matching.ScoreComponent(
            name="skill_fit", weight=0.3, value=1.0, contribution=0.3, explanation="offers mongodb"
        ),
        matching.ScoreComponent(
            name="hours_overlap",
            weight=0.2,
            value=0.75,
            contribution=0.15,
            explanation="6 of 8 working hours overlap",
        ),
    ]


_PROGRAMME = {"programme_id": "pg-1"}
_PROGRAMME_BUILDERS: dict[type[Event], Callable[[], Event]] = {
    programmes.ProgrammeCreated: lambda: programmes.ProgrammeCreated(
        **_PROGRAMME,
        name="Kafka circle",
        goal_skills=["kafka"],
        cohort_size=40,
        mentor_pool="offering",
        starts_on=date(2027, 1, 4),
        ends_on=date(2027, 3, 31),
        created_by="p-1",
        sequence=1,
    ),
    programmes.ProgrammePreviewed: lambda: programmes.ProgrammePreviewed(
        **_PROGRAMME,
        pairs=38,
        unassigned=2,
        mean_score=0.71,
        worst_score=0.52,
        max_load=3,
        load_gini=0.21,
        cross_team_share=0.8,
        overlap_share=0.95,
        sequence=2,
    ),
    programmes.ProgrammeAdjusted: lambda: programmes.ProgrammeAdjusted(
        **_PROGRAMME, change="pin", mentee_id="p-42", mentor_id="p-17", sequence=3
    ),
    programmes.ProgrammePublished: lambda: programmes.ProgrammePublished(
        **_PROGRAMME, pairs=38, unassigned=2, sequence=4
    ),
    programmes.ProgrammePairProposed: lambda: programmes.ProgrammePairProposed(
        **_PROGRAMME,
        mentee_id="p-42",
        mentor_id="p-17",
        request_id="r-pg-1-p-42",
        skill_id="kafka",
        score=0.74,
        attempt=1,
        sequence=5,
    ),
    programmes.ProgrammeMenteeUnassigned: lambda: programmes.ProgrammeMenteeUnassigned(
        **_PROGRAMME,
        mentee_id="p-43",
        reason="candidates_full",
        detail="all 12 candidate mentor(s) are full",
        sequence=6,
    ),
    programmes.ProgrammeClosed: lambda: programmes.ProgrammeClosed(**_PROGRAMME, sequence=9),
}

_BUILDERS: dict[type[Event], Callable[[], Event]] = {
    **_PROGRAMME_BUILDERS,
    profiles.ProfileRegistered: lambda: profiles.ProfileRegistered(**_ADA, sequence=1),
    profiles.ProfileUpdated: lambda: profiles.ProfileUpdated(
        **{**_ADA, "team": "payments"}, sequence=2
    ),
    profiles.SkillOffered: lambda: profiles.SkillOffered(
        person_id="p-17",
        skill_id="mongodb",
        skill_name="MongoDB",
        level=4,
        description="aggregation pipelines, indexing",
        weekly_capacity=2,
        sequence=3,
    ),
    profiles.SkillWithdrawn: lambda: profiles.SkillWithdrawn(
        person_id="p-17", skill_id="mongodb", sequence=8
    ),
    profiles.AvailabilityChanged: lambda: profiles.AvailabilityChanged(
        person_id="p-17",
        weekly_capacity=3,
        time_zone="Asia/Kolkata",
        working_hours=WorkingHours(start="10:00", end="18:00", days=[1, 2, 3, 4, 5]),
        away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))],
        sequence=4,
    ),
    profiles.LearningGoalSet: lambda: profiles.LearningGoalSet(
        person_id="p-42", skill_id="kubernetes", target_level=3, sequence=2
    ),
    profiles.LearningGoalRemoved: lambda: profiles.LearningGoalRemoved(
        person_id="p-42", skill_id="kubernetes", sequence=5
    ),
    profiles.SkillAcquired: lambda: profiles.SkillAcquired(
        person_id="p-42",
        skill_id="mongodb",
        skill_name="MongoDB",
        level=3,
        teacher_id="p-17",
        session_id="s-3",
        acquired_at=_WHEN,
        sequence=7,
    ),
    profiles.ProfileErased: lambda: profiles.ProfileErased(person_id="p-99", sequence=12),
    profiles.SkillEvidenceChanged: lambda: profiles.SkillEvidenceChanged(
        person_id="p-17",
        skill_id="kubernetes",
        skill_name="Kubernetes",
        score=2.43,
        as_of=_WHEN,
        half_life_days=365.0,
        evidence_level=2,
        sessions_taught=3,
        endorsements=2,
        ratings=2,
        mean_rating=4.5,
        learned=False,
        sequence=11,
    ),
    matching.HelpRequested: lambda: matching.HelpRequested(
        **_REQUEST,
        skill_id="mongodb",
        desired_level=3,
        task="Tune a slow aggregation for the billing report",
        needed_by=datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
        urgency="high",
        format="pairing",
        max_minutes=60,
        sequence=1,
    ),
    matching.HelpRequestCancelled: lambda: matching.HelpRequestCancelled(
        **_REQUEST, skill_id="mongodb", reason="solved it myself", sequence=3
    ),
    matching.HelpRequestUnmatched: lambda: matching.HelpRequestUnmatched(
        **_REQUEST,
        skill_id="mongodb",
        reason="all_declined",
        detail="3 helpers declined",
        candidates_tried=3,
        waited_since=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        sequence=7,
    ),
    matching.HelpRequestWaiting: lambda: matching.HelpRequestWaiting(
        **_REQUEST,
        skill_id="mongodb",
        reason="all_at_capacity",
        detail="2 possible helper(s) are away or at capacity this week; 0 were asked already",
        candidates_tried=0,
        waiting_since=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        until=datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
        sequence=2,
    ),
    matching.MatchProposed: lambda: matching.MatchProposed(
        **_REQUEST,
        proposal_id="pr-1",
        helper_id="p-17",
        skill_id="mongodb",
        task="Tune a slow aggregation for the billing report",
        score=0.45,
        breakdown=_breakdown(),
        attempt=1,
        expires_at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
        sequence=2,
    ),
    matching.MatchAccepted: lambda: matching.MatchAccepted(
        **_REQUEST,
        proposal_id="pr-1",
        helper_id="p-17",
        session_id="s-3",
        skill_id="mongodb",
        scheduled_at=datetime(2026, 12, 3, 14, 0, tzinfo=UTC),
        minutes=60,
        sequence=3,
    ),
    matching.MatchDeclined: lambda: matching.MatchDeclined(
        **_REQUEST,
        proposal_id="pr-1",
        helper_id="p-17",
        skill_id="mongodb",
        reason="on call this week",
        will_retry=True,
        sequence=3,
    ),
    matching.MatchExpired: lambda: matching.MatchExpired(
        **_REQUEST,
        proposal_id="pr-2",
        helper_id="p-23",
        skill_id="mongodb",
        will_retry=True,
        sequence=4,
    ),
    matching.SessionCompleted: lambda: matching.SessionCompleted(
        **_REQUEST,
        session_id="s-3",
        learner_id="p-42",
        teacher_id="p-17",
        skill_id="mongodb",
        level=3,
        duration_minutes=45,
        completed_at=_WHEN,
        sequence=6,
    ),
    matching.SessionNotHappened: lambda: matching.SessionNotHappened(
        **_REQUEST,
        session_id="s-3",
        learner_id="p-42",
        teacher_id="p-17",
        reported_by="p-42",
        sequence=5,
    ),
    matching.FeedbackGiven: lambda: matching.FeedbackGiven(
        **_REQUEST,
        session_id="s-3",
        from_id="p-42",
        to_id="p-17",
        role_of_rated="teacher",
        rating=5,
        comment="clear and patient",
        sequence=7,
    ),
    matching.SessionRescheduled: lambda: matching.SessionRescheduled(
        **_REQUEST,
        session_id="s-3",
        learner_id="p-42",
        teacher_id="p-17",
        skill_id="mongodb",
        scheduled_at=_WHEN,
        minutes=60,
        revision=1,
        rescheduled_by="p-17",
        sequence=6,
    ),
    matching.SessionCancelled: lambda: matching.SessionCancelled(
        **_REQUEST,
        session_id="s-3",
        learner_id="p-42",
        teacher_id="p-17",
        skill_id="mongodb",
        revision=2,
        cancelled_by="p-42",
        reason="the bug fixed itself",
        sequence=7,
    ),
    notifications.NotificationDelivered: lambda: notifications.NotificationDelivered(
        **_NOTIFICATION, attempts=1, sequence=2
    ),
    notifications.NotificationFailed: lambda: notifications.NotificationFailed(
        **_NOTIFICATION, attempts=6, reason="550 mailbox unavailable", sequence=7
    ),
    states.PersonState: lambda: states.PersonState(
        person_id="p-17",
        display_name="Ada Lovelace",
        team="billing",
        time_zone="Europe/London",
        working_hours=WorkingHours(start="09:00", end="17:30", days=[1, 2, 3, 4, 5]),
        languages=["en", "fr"],
        weekly_capacity=3,
        away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))],
        offers=[
            states.OfferState(
                skill_id="mongodb",
                skill_name="MongoDB",
                level=4,
                description="aggregation pipelines, indexing",
                weekly_capacity=2,
            )
        ],
        goals=[states.GoalState(skill_id="kubernetes", target_level=3)],
        learned=[
            states.LearnedState(skill_id="python", skill_name="Python", level=3, acquired_at=_WHEN)
        ],
        sequence=9,
    ),
    states.HelpRequestState: lambda: states.HelpRequestState(
        **_REQUEST,
        status="completed",
        skill_id="mongodb",
        desired_level=3,
        task="Tune a slow aggregation for the billing report",
        needed_by=datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
        urgency="high",
        format="pairing",
        max_minutes=60,
        created_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        updated_at=_WHEN,
        proposals=[
            states.ProposalState(
                proposal_id="r-9.p1",
                attempt=1,
                helper_id="p-17",
                skill_id="mongodb",
                score=0.45,
                status="accepted",
                proposed_at=datetime(2026, 12, 2, 9, 0, 1, tzinfo=UTC),
                expires_at=datetime(2026, 12, 3, 9, 0, 1, tzinfo=UTC),
                decided_at=datetime(2026, 12, 2, 10, 30, tzinfo=UTC),
            )
        ],
        session=states.SessionState(
            session_id="r-9.s",
            learner_id="p-42",
            teacher_id="p-17",
            skill_id="mongodb",
            scheduled_at=datetime(2026, 12, 3, 14, 0, tzinfo=UTC),
            completed_at=_WHEN,
            duration_minutes=45,
            rating_of_teacher=5,
        ),
        sequence=6,
    ),
    states.OrganisationSkillDefined: lambda: states.OrganisationSkillDefined(
        skill_id="acme-ledger",
        name="Acme Ledger",
        aliases=["ledger"],
        description="Our in-house bookkeeping system",
        related=["accounting"],
        sequence=1,
    ),
}


class MissingExampleError(LookupError):
    """A new event needs an example here before its schema can be generated."""


def example_of(event: type[Event]) -> Event:
    builder = _BUILDERS.get(event)
    if builder is None:
        raise MissingExampleError(
            f"no example for {event.__name__}: add one to {__name__} (_BUILDERS)"
        )
    return builder()


def example_data(event: type[Event]) -> dict[str, Any]:
    """The example as it travels: the JSON value of the Kafka record."""
    data: dict[str, Any] = example_of(event).model_dump(mode="json", by_alias=True)
    return data
