"""Profile, availability, skill and feedback events into matching's view of people, and
erasure everywhere, over the in-memory stores."""

from __future__ import annotations

from datetime import date

import pytest
from matching_fakes import META, START, Matching
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.matching import FeedbackGiven
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_matching.application.help_requests import WITHDRAWN_REASON
from peerloop_matching.domain.help_request import ERASED


@pytest.fixture
def m() -> Matching:
    return Matching()


def _registered(pid: str, seq: int, team: str = "billing") -> ProfileRegistered:
    return ProfileRegistered(
        person_id=pid,
        display_name=pid,
        email=f"{pid}@example.com",
        team=team,
        time_zone="Europe/Berlin",
        sequence=seq,
    )


def _offered(pid: str, seq: int, *, skill: str = "python", level: int = 4) -> SkillOffered:
    return SkillOffered(
        person_id=pid,
        skill_id=skill,
        skill_name=skill,
        level=level,
        weekly_capacity=2,
        sequence=seq,
    )


async def test_parts_arrive_in_any_order_and_stale_or_repeated_events_change_nothing(
    m: Matching,
) -> None:
    await m.projection.on_skill_offered(_offered("p", 3, level=4), META)
    await m.projection.on_profile(_registered("p", 1), META)
    await m.projection.on_skill_offered(_offered("p", 2, level=1), META)  # older, late
    await m.projection.on_skill_offered(_offered("p", 3, level=1), META)  # a repeat
    await m.projection.on_profile(
        ProfileUpdated(
            person_id="p",
            display_name="p",
            email="p@example.com",
            team="old",
            time_zone="UTC",
            sequence=1,
        ),
        META,
    )
    person = await m.candidates.get("p")
    assert person is not None
    assert (person.team, person.time_zone, person.offers["python"].level) == (
        "billing",
        "Europe/Berlin",
        4,
    )
    assert m.index.get("p") == person


async def test_availability_sets_capacity_hours_and_time_away(m: Matching) -> None:
    await m.projection.on_profile(_registered("p", 1), META)
    await m.projection.on_availability(
        AvailabilityChanged(
            person_id="p",
            weekly_capacity=3,
            time_zone="Asia/Tokyo",
            working_hours=WorkingHours(start="08:00", end="12:00", days=[1, 2]),
            away_periods=[AwayPeriod(start=date(2026, 12, 24), end=date(2026, 12, 31))],
            sequence=2,
        ),
        META,
    )
    person = await m.candidates.get("p")
    assert person is not None
    assert (person.weekly_capacity, person.time_zone) == (3, "Asia/Tokyo")
    assert (person.hours.start, person.hours.end, person.hours.days) == (480, 720, (1, 2))
    assert person.is_away(date(2026, 12, 25)) and not person.is_away(date(2026, 12, 23))


async def test_a_withdrawn_skill_stays_withdrawn_when_an_older_offer_arrives_late(
    m: Matching,
) -> None:
    await m.projection.on_skill_offered(_offered("p", 2), META)
    await m.projection.on_skill_withdrawn(
        SkillWithdrawn(person_id="p", skill_id="python", sequence=4), META
    )
    await m.projection.on_skill_offered(_offered("p", 3), META)
    assert (await m.candidates.get("p")).offers == {}  # type: ignore[union-attr]
    assert list(m.index.offerers("python")) == []


async def test_a_skill_learned_is_recorded_but_not_offered(m: Matching) -> None:
    await m.projection.on_profile(_registered("p", 1), META)
    await m.projection.on_skill_acquired(
        SkillAcquired(
            person_id="p",
            skill_id="python",
            skill_name="Python",
            level=2,
            teacher_id="t",
            session_id="s-1",
            acquired_at=START,
            sequence=2,
        ),
        META,
    )
    assert (await m.candidates.get("p")).offers == {}  # type: ignore[union-attr]
    assert m.candidates.docs["p"]["learned"]["python"]["level"] == 2


async def test_skill_ids_with_dots_are_kept_whole(m: Matching) -> None:
    await m.projection.on_skill_offered(_offered("p", 2, skill="asp.net"), META)
    assert set((await m.candidates.get("p")).offers) == {"asp.net"}  # type: ignore[union-attr]


def _feedback(to: str, role: str, rating: int, session: str = "s-1") -> FeedbackGiven:
    return FeedbackGiven(
        request_id="r-1",
        requester_id="q",
        session_id=session,
        from_id="q",
        to_id=to,
        role_of_rated=role,  # type: ignore[arg-type]
        rating=rating,
        sequence=7,
    )


async def test_a_teachers_rating_counts_once_and_a_learners_not_at_all(m: Matching) -> None:
    await m.projection.on_profile(_registered("p", 1), META)
    await m.projection.on_feedback(_feedback("p", "teacher", 2), META)
    await m.projection.on_feedback(_feedback("p", "teacher", 2), META)  # redelivered
    await m.projection.on_feedback(_feedback("p", "learner", 5), META)
    await m.projection.on_feedback(_feedback("p", "teacher", 4, session="s-2"), META)
    person = await m.candidates.get("p")
    assert (person.rating_sum, person.rating_count) == (6, 2)  # type: ignore[union-attr]
    assert m.index.get("p") == person


async def test_the_index_follows_what_other_replicas_wrote_to_the_store(m: Matching) -> None:
    await m.sync.refresh()
    await m.candidates.apply_profile(
        "p", 1, {"team": "t", "time_zone": "UTC", "working_hours": None}
    )
    await m.candidates.apply_offer(
        "p",
        "python",
        2,
        {"skill_id": "python", "level": 3, "willing_to_teach": True, "weekly_capacity": 1},
    )
    assert m.index.get("p") is None
    assert await m.sync.refresh() >= 1
    assert [c.person_id for c, _ in m.index.offerers("python")] == ["p"]
    await m.candidates.erase("p", 3)
    await m.sync.refresh()
    assert m.index.get("p") is None


# -- erasure ---------------------------------------------------------------------------------


async def test_erasing_a_requester_deletes_their_requests_and_frees_their_helpers(
    m: Matching,
) -> None:
    await m.person("gone")
    await m.person("tom", teaches="python")
    theirs = await m.ask("gone")
    assert await m.held_by("tom") == [f"pending:{theirs}.p1"]
    await m.projection.on_profile_erased(ProfileErased(person_id="gone", sequence=9), META)
    assert await m.requests.load(theirs) is None
    assert await m.held_by("tom") == []
    assert await m.candidates.get("gone") is None and m.index.get("gone") is None
    assert set(m.candidates.docs["gone"]) == {"_id", "erased", "erased_sequence", "updated_at"}
    # A late event about them does not bring them back.
    await m.projection.on_profile(_registered("gone", 13), META)
    await m.projection.on_skill_offered(_offered("gone", 14), META)
    assert await m.candidates.get("gone") is None


async def test_erasing_a_helper_drops_their_name_reasons_and_the_sessions_comments(
    m: Matching,
) -> None:
    """Their decline reason on one request, the feedback of a session they taught on
    another: none of their name or words stay in other people's requests."""
    await m.person("lea")
    await m.person("gone", teaches="python", capacity=5)
    declined = await m.ask("lea")
    await m.use_cases.decline(declined, f"{declined}.p1", "gone", reason="I'm gone on leave")
    taught = await m.ask("lea")
    await m.use_cases.accept(taught, f"{taught}.p1", "gone")
    await m.use_cases.confirm(taught, "lea")
    await m.use_cases.confirm(taught, "gone")
    await m.use_cases.give_feedback(taught, "lea", rating=5, comment="gone explained it well")
    await m.use_cases.give_feedback(taught, "gone", rating=4, comment="lea was prepared")
    assert (await m.candidates.get("gone")).partners == ("lea",)  # type: ignore[union-attr]

    await m.projection.on_profile_erased(ProfileErased(person_id="gone", sequence=9), META)

    first = await m.use_cases.get(declined)
    assert [(p.helper_id, p.status, p.reason) for p in first.proposals] == [
        (ERASED, "declined", None)
    ]
    second = await m.use_cases.get(taught)
    assert second.session is not None
    assert (second.session.learner_id, second.session.teacher_id) == ("lea", ERASED)
    assert {r: (f.rating, f.comment) for r, f in second.session.feedback.items()} == {
        "learner": (5, None),
        "teacher": (4, None),
    }
    assert "gone" not in second.model_dump_json()
    assert "gone" not in first.model_dump_json()
    assert second.state == "completed"  # the learner's history stays


async def test_erasing_a_learner_drops_them_from_their_teachers_partners(m: Matching) -> None:
    await m.person("gone")
    await m.person("tom", teaches="python")
    request_id = await m.ask("gone")
    await m.use_cases.accept(request_id, f"{request_id}.p1", "tom")
    assert (await m.candidates.get("tom")).partners == ("gone",)  # type: ignore[union-attr]
    await m.projection.on_profile_erased(ProfileErased(person_id="gone", sequence=9), META)
    tom = await m.candidates.get("tom")
    assert tom is not None and tom.partners == () and tom.reservations == ()


def _no_capacity(pid: str, seq: int, capacity: int = 0) -> AvailabilityChanged:
    return AvailabilityChanged(
        person_id=pid,
        weekly_capacity=capacity,
        time_zone="Europe/Berlin",
        working_hours=WorkingHours(),
        sequence=seq,
    )


async def test_a_helper_without_capacity_loses_their_pending_proposals_to_the_next_helper(
    m: Matching,
) -> None:
    await m.person("ann")
    await m.person("tom", teaches="python")
    await m.person("kim", teaches="python")
    asked = await m.ask("ann")
    first = await m.requests.load(asked)
    assert first is not None and first.pending is not None
    gone = first.pending.helper_id
    other = "kim" if gone == "tom" else "tom"
    assert await m.held_by(gone) == [f"pending:{asked}.p1"]

    await m.projection.on_availability(_no_capacity(gone, 10), META)

    request = await m.requests.load(asked)
    assert request is not None
    was, now = request.proposals
    assert (was.helper_id, was.status, was.reason) == (gone, "declined", WITHDRAWN_REASON)
    assert (now.helper_id, now.status) == (other, "pending")
    assert await m.held_by(gone) == []
    # A redelivery moves nothing more, and the withdrawn helper is not proposed again.
    await m.projection.on_availability(_no_capacity(gone, 10), META)
    again = await m.requests.load(asked)
    assert again is not None and len(again.proposals) == 2


async def test_a_stale_availability_without_capacity_moves_nothing(m: Matching) -> None:
    await m.person("ann")
    await m.person("tom", teaches="python")
    await m.projection.on_availability(_no_capacity("tom", 20, capacity=3), META)
    asked = await m.ask("ann")
    await m.projection.on_availability(_no_capacity("tom", 19), META)  # older, late
    assert await m.held_by("tom") == [f"pending:{asked}.p1"]
