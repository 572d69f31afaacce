"""The candidate read model on the real store: order-tolerant, idempotent, erasable."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import FeedbackGiven
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillEvidenceChanged,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_contracts.states import OfferState, PersonState
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.bootstrap import MatchingService
from peerloop_matching.domain.errors import ErasedPersonError

pytestmark = pytest.mark.integration

META = CloudEventMeta(source="test", type="test", subject="test")


def _registered(pid: str, seq: int, team: str = "billing") -> ProfileRegistered:
    return ProfileRegistered(
        person_id=pid,
        display_name=pid,
        email=f"{pid}@example.com",
        team=team,
        time_zone="Europe/Berlin",
        sequence=seq,
    )


def _offered(pid: str, skill: str, seq: int, level: int = 4) -> SkillOffered:
    return SkillOffered(
        person_id=pid,
        skill_id=skill,
        skill_name=skill,
        level=level,
        weekly_capacity=2,
        sequence=seq,
    )


async def test_parts_arrive_in_any_order_and_stale_or_repeated_events_change_nothing(
    offline_service: MatchingService, run_id: str
) -> None:
    p, skill = f"p-{run_id}", f"skill-{run_id}"
    projection = offline_service.projection
    # The offer (seq 3) overtakes the registration (seq 1): both parts are kept.
    await projection.on_skill_offered(_offered(p, skill, 3, level=4), META)
    await projection.on_profile(_registered(p, 1), META)
    # An older offer arriving late (seq 2) and a redelivery (seq 3) change nothing.
    await projection.on_skill_offered(_offered(p, skill, 2, level=1), META)
    before = await offline_service.candidates.collection.find_one({"_id": p})
    await projection.on_skill_offered(_offered(p, skill, 3, level=4), META)
    await projection.on_profile(_registered(p, 1), META)
    after = await offline_service.candidates.collection.find_one({"_id": p})
    assert before == after
    candidate = await offline_service.candidates.get(p)
    assert candidate is not None
    assert (candidate.team, candidate.time_zone, candidate.offers[skill].level) == (
        "billing",
        "Europe/Berlin",
        4,
    )
    # A newer profile wins; an older one does not.
    await projection.on_profile(
        ProfileUpdated(**{**_registered(p, 5, team="payments").model_dump(), "sequence": 5}), META
    )
    await projection.on_profile(_registered(p, 4, team="stale"), META)
    assert (await offline_service.candidates.get(p)).team == "payments"  # type: ignore[union-attr]
    # The index follows every applied change.
    assert [c.person_id for c, _ in offline_service.index.offerers(skill)] == [p]


async def test_withdrawal_is_kept_so_a_late_offer_does_not_resurrect_it(
    offline_service: MatchingService, run_id: str
) -> None:
    p, skill = f"p-{run_id}", f"skill-{run_id}"
    projection = offline_service.projection
    await projection.on_profile(_registered(p, 1), META)
    await projection.on_skill_withdrawn(
        SkillWithdrawn(person_id=p, skill_id=skill, sequence=4), META
    )
    await projection.on_skill_offered(_offered(p, skill, 3), META)
    assert skill not in (await offline_service.candidates.get(p)).offers  # type: ignore[union-attr]
    assert list(offline_service.index.offerers(skill)) == []
    await projection.on_skill_offered(_offered(p, skill, 5), META)
    assert skill in (await offline_service.candidates.get(p)).offers  # type: ignore[union-attr]


async def test_availability_and_learned_skills(
    offline_service: MatchingService, run_id: str
) -> None:
    p = f"p-{run_id}"
    projection = offline_service.projection
    await projection.on_profile(_registered(p, 1), META)
    await projection.on_availability(
        AvailabilityChanged(
            person_id=p,
            weekly_capacity=3,
            time_zone="Asia/Kolkata",
            working_hours=WorkingHours(start="10:00", end="18:00"),
            away_periods=[AwayPeriod(start=date(2026, 12, 20), end=date(2027, 1, 2))],
            sequence=2,
        ),
        META,
    )
    await projection.on_skill_acquired(
        SkillAcquired(
            person_id=p,
            skill_id=f"skill-{run_id}",
            skill_name="x",
            level=2,
            teacher_id="t",
            session_id="s",
            acquired_at=datetime.now(UTC),
            sequence=3,
        ),
        META,
    )
    candidate = await offline_service.candidates.get(p)
    assert candidate is not None
    assert (candidate.weekly_capacity, candidate.time_zone, candidate.hours.start) == (
        3,
        "Asia/Kolkata",
        600,
    )
    assert candidate.is_away(date(2026, 12, 24)) and not candidate.is_away(date(2027, 1, 3))
    # Learned but not offered: not a candidate to teach it until they offer it.
    assert candidate.offers == {}


async def test_feedback_counts_once_per_session_and_only_for_teachers(
    offline_service: MatchingService, run_id: str
) -> None:
    p = f"p-{run_id}"
    await offline_service.projection.on_profile(_registered(p, 1), META)

    def rating(role: str, value: int) -> FeedbackGiven:
        return FeedbackGiven(
            request_id="r",
            requester_id="q",
            session_id=f"s-{run_id}",
            from_id="q",
            to_id=p,
            role_of_rated=role,  # type: ignore[arg-type]
            rating=value,
            sequence=7,
        )

    await offline_service.projection.on_feedback(rating("teacher", 2), META)
    await offline_service.projection.on_feedback(rating("teacher", 2), META)  # redelivered
    await offline_service.projection.on_feedback(rating("learner", 5), META)
    candidate = await offline_service.candidates.get(p)
    assert (candidate.rating_sum, candidate.rating_count) == (2, 1)  # type: ignore[union-attr]


async def test_erasure_removes_the_person_everywhere_and_for_good(
    offline_service: MatchingService, run_id: str
) -> None:
    gone, helper, other = f"gone-{run_id}", f"h-{run_id}", f"o-{run_id}"
    skill = f"skill-{run_id}"
    projection = offline_service.projection
    for pid, seq in ((gone, 1), (helper, 1), (other, 1)):
        await projection.on_profile(_registered(pid, seq, team=pid), META)
    await projection.on_skill_offered(_offered(helper, skill, 2), META)
    await projection.on_skill_offered(_offered(gone, skill, 2), META)
    use_cases = offline_service.help_requests
    # `gone` asked for help (helper reserved for it) and was asked to help `other`.
    theirs = await use_cases.create(NewHelpRequest(gone, skill, 3, "their task"))
    await use_cases.on_help_requested(await _requested(offline_service, theirs.request_id), META)
    assert (await use_cases.get(theirs.request_id)).proposals[0].helper_id == helper
    await projection.on_skill_offered(
        _offered(helper, skill, 3, level=1), META
    )  # helper too junior
    mine = await use_cases.create(NewHelpRequest(other, skill, 3, "other's task"))
    await use_cases.on_help_requested(await _requested(offline_service, mine.request_id), META)
    assert (await use_cases.get(mine.request_id)).proposals[0].helper_id == gone

    await projection.on_profile_erased(ProfileErased(person_id=gone, sequence=9), META)

    assert await offline_service.candidates.get(gone) is None
    assert offline_service.index.get(gone) is None
    assert await offline_service.request_store.load(theirs.request_id) is None
    assert (await offline_service.candidates.get(helper)).reservations == ()  # type: ignore[union-attr]
    assert (await use_cases.get(mine.request_id)).proposals[0].helper_id == "erased"
    tombstone = await offline_service.candidates.collection.find_one({"_id": gone})
    assert set(tombstone) == {"_id", "erased", "erased_sequence", "updated_at"}  # type: ignore[arg-type]
    # A late event about them does not bring them back.
    await projection.on_skill_offered(_offered(gone, skill, 12), META)
    await projection.on_profile(_registered(gone, 13), META)
    assert await offline_service.candidates.get(gone) is None


async def _requested(service: MatchingService, request_id: str):  # type: ignore[no-untyped-def]
    from peerloop_contracts.matching import HelpRequested

    doc = await service.request_store.collection.find_one({"_id": request_id})
    return HelpRequested.decode(doc["outbox"][0]["value"])  # type: ignore[index]


async def test_the_index_follows_changes_other_replicas_wrote_to_the_store(
    offline_service: MatchingService, run_id: str
) -> None:
    p, skill = f"p-{run_id}", f"skill-{run_id}"
    await offline_service.sync.refresh()
    # Another replica's consumer wrote these: this replica's handlers never saw them.
    store = offline_service.candidates
    await store.apply_part(
        p, "profile", 1, {"team": "t", "time_zone": "UTC", "working_hours": None}
    )
    await store.apply_part(
        p,
        f"skills.{skill}",
        2,
        {"skill_id": skill, "level": 3, "willing_to_teach": True, "weekly_capacity": 1},
    )
    assert offline_service.index.get(p) is None
    assert await offline_service.sync.refresh() >= 1
    assert [c.person_id for c, _ in offline_service.index.offerers(skill)] == [p]
    await store.erase(p, 3)
    await offline_service.sync.refresh()
    assert offline_service.index.get(p) is None
    assert list(offline_service.index.offerers(skill)) == []


async def test_erasing_a_helper_leaves_none_of_their_name_or_words_in_the_stored_requests(
    offline_service: MatchingService, run_id: str
) -> None:
    """Their decline reason, the session's comments and their id leave the documents."""
    learner, gone, skill = f"lea-{run_id}", f"gone-{run_id}", f"skill-{run_id}"
    projection, use_cases = offline_service.projection, offline_service.help_requests
    for pid in (learner, gone):
        await projection.on_profile(_registered(pid, 1, team=pid), META)
    await projection.on_skill_offered(_offered(gone, skill, 2), META)

    declined = await use_cases.create(NewHelpRequest(learner, skill, 3, "first task"))
    await use_cases.on_help_requested(await _requested(offline_service, declined.request_id), META)
    await use_cases.decline(
        declined.request_id, f"{declined.request_id}.p1", gone, reason=f"{gone} is on leave"
    )
    taught = await use_cases.create(NewHelpRequest(learner, skill, 3, "second task"))
    await use_cases.on_help_requested(await _requested(offline_service, taught.request_id), META)
    await use_cases.accept(taught.request_id, f"{taught.request_id}.p1", gone)
    await use_cases.confirm(taught.request_id, learner)
    await use_cases.confirm(taught.request_id, gone)
    await use_cases.give_feedback(taught.request_id, learner, rating=5, comment=f"{gone} rocks")
    await use_cases.give_feedback(taught.request_id, gone, rating=4, comment="well prepared")

    await projection.on_profile_erased(ProfileErased(person_id=gone, sequence=9), META)

    collection = offline_service.request_store.collection
    # The state; events not yet relayed still go out (the topics' retention bounds them).
    for request_id in (declined.request_id, taught.request_id):
        doc = await collection.find_one({"_id": request_id}, projection={"outbox": 0})
        assert doc is not None and gone not in repr(doc)
    first = await use_cases.get(declined.request_id)
    assert [(p.helper_id, p.reason) for p in first.proposals] == [("erased", None)]
    second = await use_cases.get(taught.request_id)
    assert second.session is not None
    assert {r: (f.rating, f.comment) for r, f in second.session.feedback.items()} == {
        "learner": (5, None),
        "teacher": (4, None),
    }


async def test_an_erased_person_is_refused_at_once_not_told_to_retry(
    offline_service: MatchingService, run_id: str
) -> None:
    gone = f"gone-{run_id}"
    await offline_service.projection.on_profile(_registered(gone, 1), META)
    await offline_service.projection.on_profile_erased(
        ProfileErased(person_id=gone, sequence=2), META
    )
    with pytest.raises(ErasedPersonError, match="was erased"):
        await offline_service.help_requests.create(NewHelpRequest(gone, "mongodb", 3, "a task"))


def _evidence(pid: str, skill: str, seq: int, taught: int) -> SkillEvidenceChanged:
    return SkillEvidenceChanged(
        person_id=pid,
        skill_id=skill,
        skill_name=skill,
        score=float(taught),
        as_of=datetime(2026, 11, 28, 15, 10, tzinfo=UTC),
        half_life_days=365,
        evidence_level=2,
        sessions_taught=taught,
        endorsements=1,
        ratings=0,
        learned=False,
        sequence=seq,
    )


async def test_skill_evidence_is_kept_after_a_state_and_not_replaced_by_an_older_one(
    offline_service: MatchingService, run_id: str
) -> None:
    p, skill = f"p-{run_id}", f"k8s.{run_id}"
    projection = offline_service.projection
    state = PersonState(
        person_id=p,
        display_name=p,
        team="billing",
        time_zone="UTC",
        weekly_capacity=2,
        offers=[OfferState(skill_id=skill, skill_name=skill, level=4, weekly_capacity=2)],
        sequence=7,
    )
    # Written with the state in one write (same sequence); the state carries no evidence.
    await projection.on_person_state(state, META)
    await projection.on_skill_evidence_changed(_evidence(p, skill, 7, taught=3), META)
    await projection.on_skill_evidence_changed(_evidence(p, skill, 6, taught=2), META)
    candidate = await offline_service.candidates.get(p)
    assert candidate is not None
    shown = candidate.evidence[skill]
    assert (shown.sessions_taught, shown.endorsements, shown.score) == (3, 1, 3.0)
    assert shown.as_of == datetime(2026, 11, 28, 15, 10, tzinfo=UTC)
