"""Evidence of a skill: weights, forgetting, levels, and the use cases on in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_contracts.matching import FeedbackGiven, SessionCompleted
from peerloop_contracts.profiles import SkillEvidenceChanged
from peerloop_profiles.adapters.memory_evidence import InMemoryEvidence
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.application.errors import NotTaughtBy, PersonNotFound, SelfEndorsement
from peerloop_profiles.application.evidence import Evidence
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain import evidence
from peerloop_profiles.domain.evidence import EvidenceItem
from peerloop_profiles.domain.model import ProfileDetails

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.mark.parametrize(
    ("weight", "age_days", "expected"),
    [
        (1.0, 0, 1.0),
        (1.0, 365, 0.5),
        (1.0, 730, 0.25),
        (1.0, 4 * 365, 1 / 16),  # taught once four years ago
        (0.5, 365, 0.25),
        (1.0, -10, 1.0),  # a clock behind does not inflate an item
    ],
)
def test_an_item_counts_half_per_half_life(weight: float, age_days: int, expected: float) -> None:
    assert evidence.decay(weight, timedelta(days=age_days), YEAR) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, 0), (0.1, 1), (0.99, 1), (1.0, 2), (2.4, 2), (2.5, 3), (5, 4), (9.9, 4), (10, 5), (40, 5)],
)
def test_evidence_levels(score: float, level: int) -> None:
    assert evidence.evidence_level(score) == level


def _taught(session: str, days_ago: int = 0, skill: str = "kubernetes") -> EvidenceItem:
    return evidence.taught("p-t", session, skill, NOW - timedelta(days=days_ago))


@pytest.mark.parametrize(
    ("items", "score", "counts"),
    [
        ([_taught("s1")], 1.0, (1, 0, 0, None, False)),
        ([_taught("s1"), evidence.rated("p-t", "s1", 5)], 1.5, (1, 0, 1, 5.0, False)),
        ([_taught("s1"), evidence.rated("p-t", "s1", 4)], 1.25, (1, 0, 1, 4.0, False)),
        ([_taught("s1"), evidence.rated("p-t", "s1", 3)], 1.0, (1, 0, 1, 3.0, False)),
        ([_taught("s1"), evidence.rated("p-t", "s1", 1)], 0.5, (1, 0, 1, 1.0, False)),
        # Ratings take away, but never below nothing.
        (
            [
                _taught("s1"),
                evidence.rated("p-t", "s1", 1),
                _taught("s2", skill="go"),
                evidence.rated("p-t", "s2", 1),
            ],
            0.5,
            (1, 0, 1, 1.0, False),
        ),
        ([evidence.endorsed("p-t", "kubernetes", "p-l", NOW)], 0.5, (0, 1, 0, None, False)),
        ([evidence.learned("p-t", "s9", "kubernetes", NOW)], 0.5, (0, 0, 0, None, True)),
        # Four years old and today: as of today, 1/16 + 1.
        ([_taught("old", 4 * 365), _taught("new")], 1.0625, (2, 0, 0, None, False)),
        # A rating ages with its session.
        (
            [_taught("s1", 365), evidence.rated("p-t", "s1", 5), _taught("s2")],
            1.75,
            (2, 0, 1, 5.0, False),
        ),
        # Another skill's items count for that skill only.
        ([_taught("s1", skill="go")], None, None),
        # A rating whose session is not known yet counts for nothing (yet).
        ([evidence.rated("p-t", "s1", 5)], None, None),
    ],
)
def test_summary_weights(
    items: list[EvidenceItem],
    score: float | None,
    counts: tuple[int, int, int, float | None, bool] | None,
) -> None:
    summary = evidence.summarise(items, "kubernetes", YEAR)
    if score is None:
        assert summary is None
        return
    assert summary is not None
    assert summary.score == pytest.approx(score)
    assert (
        summary.sessions_taught,
        summary.endorsements,
        summary.ratings,
        summary.mean_rating,
        summary.learned,
    ) == counts


def test_the_summary_is_as_of_the_newest_item_and_decays_for_subscribers() -> None:
    summary = evidence.summarise([_taught("s1", 365), _taught("s2", 0)], "kubernetes", YEAR)
    assert summary is not None
    assert summary.as_of == NOW
    assert summary.score == pytest.approx(1.5)
    assert evidence.score_at(summary, NOW + YEAR, YEAR) == pytest.approx(0.75)


def test_a_rating_must_be_one_to_five() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        evidence.rated("p-t", "s1", 6)


# -- use cases on in-memory stores ---------------------------------------------------------

LEARNER, TEACHER, OTHER = "p-lea", "p-tea", "p-oth"


def _details(name: str) -> ProfileDetails:
    return ProfileDetails(display_name=name, email=f"{name}@example.com", team="t", time_zone="UTC")


class World:
    def __init__(self) -> None:
        self.people = InMemoryPersonRepository()
        self.items = InMemoryEvidence()
        self.profiles = Profiles(self.people, clock=lambda: NOW, on_erase=self.items.forget)
        self.evidence = Evidence(self.profiles, self.items, half_life=YEAR, clock=lambda: NOW)

    def published(self, person_id: str) -> list[SkillEvidenceChanged]:
        return [
            SkillEvidenceChanged.decode(e.value)
            for e in self.people.outbox.get(person_id, [])
            if e.topic == SkillEvidenceChanged.topic() and e.value is not None
        ]

    async def complete(self, session_id: str = "s1", skill: str = "kubernetes") -> None:
        session = _session(session_id, skill)
        await self.profiles.record_session(session)
        await self.evidence.session_completed(session)


def _session(session_id: str, skill: str = "kubernetes") -> SessionCompleted:
    return SessionCompleted(
        request_id=f"r-{session_id}",
        requester_id=LEARNER,
        session_id=session_id,
        learner_id=LEARNER,
        teacher_id=TEACHER,
        skill_id=skill,
        level=2,
        duration_minutes=30,
        completed_at=NOW - timedelta(days=1),
        sequence=5,
    )


def _feedback(session_id: str = "s1", rating: int = 5, role: str = "teacher") -> FeedbackGiven:
    rated, rater = (TEACHER, LEARNER) if role == "teacher" else (LEARNER, TEACHER)
    return FeedbackGiven.model_validate(
        {
            "request_id": f"r-{session_id}",
            "requester_id": LEARNER,
            "session_id": session_id,
            "from_id": rater,
            "to_id": rated,
            "role_of_rated": role,
            "rating": rating,
            "sequence": 7,
        }
    )


@pytest.fixture
async def world() -> World:
    w = World()
    for pid in (LEARNER, TEACHER, OTHER):
        await w.profiles.register(_details(pid), person_id=pid, weekly_capacity=2)
    return w


async def test_a_completed_session_is_evidence_for_teacher_and_learner(world: World) -> None:
    await world.complete()
    [taught] = world.published(TEACHER)
    assert (taught.skill_id, taught.sessions_taught, taught.score, taught.learned) == (
        "kubernetes",
        1,
        1.0,
        False,
    )
    assert taught.half_life_days == 365
    assert taught.evidence_level == 2
    [learnt] = world.published(LEARNER)
    assert (learnt.learned, learnt.score, learnt.sessions_taught) == (True, 0.5, 0)


async def test_the_evidence_event_is_in_the_same_write_as_the_state(world: World) -> None:
    await world.complete()
    topics = [e.topic for e in world.people.outbox[TEACHER]][-2:]
    assert topics[0] == SkillEvidenceChanged.topic()
    assert topics[1] in STATE_TOPICS
    teacher = await world.profiles.get(TEACHER)
    assert teacher.evidence_for("kubernetes") is not None


async def test_redelivered_session_and_feedback_publish_nothing_more(world: World) -> None:
    await world.complete()
    await world.evidence.feedback_given(_feedback())
    await world.complete()
    await world.evidence.feedback_given(_feedback())
    assert [e.score for e in world.published(TEACHER)] == [1.0, 1.5]


@pytest.mark.parametrize("feedback_first", [True, False])
async def test_feedback_counts_in_either_order(world: World, feedback_first: bool) -> None:
    if feedback_first:
        await world.evidence.feedback_given(_feedback(rating=4))
        assert world.published(TEACHER) == []
        await world.complete()
    else:
        await world.complete()
        await world.evidence.feedback_given(_feedback(rating=4))
    last = world.published(TEACHER)[-1]
    assert (last.score, last.ratings, last.mean_rating) == (1.25, 1, 4.0)


async def test_a_teachers_rating_of_the_learner_is_no_evidence(world: World) -> None:
    await world.complete()
    before = len(world.published(LEARNER))
    await world.evidence.feedback_given(_feedback(rating=5, role="learner"))
    assert len(world.published(LEARNER)) == before


async def test_a_learner_endorses_once(world: World) -> None:
    await world.complete()
    first = await world.evidence.endorse(LEARNER, TEACHER, "kubernetes")
    again = await world.evidence.endorse(LEARNER, TEACHER, "kubernetes")
    assert first is not None
    assert first == again
    assert (first.endorsements, first.score) == (1, pytest.approx(1.5, abs=0.01))
    assert [e.endorsements for e in world.published(TEACHER)] == [0, 1]


@pytest.mark.parametrize(
    ("learner", "helper", "skill", "refusal"),
    [
        (LEARNER, TEACHER, "go", NotTaughtBy),  # taught, but another skill
        (OTHER, TEACHER, "kubernetes", NotTaughtBy),  # never taught by them
        (TEACHER, LEARNER, "kubernetes", NotTaughtBy),  # the other way round
        ("p-nobody", TEACHER, "kubernetes", NotTaughtBy),  # not registered here
        (LEARNER, LEARNER, "kubernetes", SelfEndorsement),
        (LEARNER, "p-missing", "kubernetes", PersonNotFound),
    ],
)
async def test_who_may_not_endorse(
    world: World, learner: str, helper: str, skill: str, refusal: type[Exception]
) -> None:
    await world.complete()
    with pytest.raises(refusal):
        await world.evidence.endorse(learner, helper, skill)


async def test_erasure_deletes_their_evidence_and_their_name_on_endorsements(
    world: World,
) -> None:
    await world.complete()
    await world.evidence.endorse(LEARNER, TEACHER, "kubernetes")
    await world.profiles.erase(LEARNER)
    assert await world.items.of(LEARNER) == []
    kept = await world.items.of(TEACHER)
    assert all(LEARNER not in i.key for i in kept)
    assert sorted(i.kind.value for i in kept) == ["endorsed", "taught"]
    # The teacher's evidence stands; nothing new is published for it.
    assert world.published(TEACHER)[-1].endorsements == 1
    await world.evidence.session_completed(_session("s2"))
    assert await world.items.of(LEARNER) == []  # late events about them store nothing
    assert world.published(TEACHER)[-1].sessions_taught == 2


async def test_evidence_of_the_erased_teacher_is_gone(world: World) -> None:
    await world.complete()
    await world.profiles.erase(TEACHER)
    assert await world.items.of(TEACHER) == []
    assert (await world.profiles.get(TEACHER)).evidence == ()
