"""Use cases over an in-memory repository: load, decide, save state and outbox together."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.states import PersonState
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.application.errors import AlreadyRegistered, PersonNotFound, VersionConflict
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.errors import PersonErased, RuleViolation
from peerloop_profiles.domain.model import OfferedSkill, Person, ProfileDetails
from peerloop_runtime.outbox import OutboxEntry

ADA = ProfileDetails(
    display_name="Ada", email="ada@example.com", team="billing", time_zone="Europe/London"
)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Wakeups:
    def __init__(self) -> None:
        self.named: list[str] = []

    def __call__(self, person_id: str) -> None:
        self.named.append(person_id)


@pytest.fixture
def repo() -> InMemoryPersonRepository:
    return InMemoryPersonRepository()


@pytest.fixture
def wakeups() -> Wakeups:
    return Wakeups()


@pytest.fixture
def svc(repo: InMemoryPersonRepository, wakeups: Wakeups) -> Profiles:
    return Profiles(repo, on_outbox=wakeups, clock=lambda: NOW)


def _changes(repo: InMemoryPersonRepository, person_id: str) -> list[OutboxEntry]:
    """The change events queued for a person, without their state records."""
    return [e for e in repo.outbox[person_id] if e.topic not in STATE_TOPICS]


def _states(repo: InMemoryPersonRepository, person_id: str) -> list[OutboxEntry]:
    return [e for e in repo.outbox[person_id] if e.topic in STATE_TOPICS]


def _types(entries: Sequence[OutboxEntry]) -> list[str]:
    return [e.headers["ce_type"] for e in entries]


def _session(session_id: str, learner: str = "p-ada", teacher: str = "p-tim") -> SessionCompleted:
    return SessionCompleted(
        request_id="r-1",
        requester_id=learner,
        session_id=session_id,
        learner_id=learner,
        teacher_id=teacher,
        skill_id="mongodb",
        level=2,
        duration_minutes=30,
        completed_at=NOW,
        sequence=3,
    )


async def test_register_stores_version_one_with_its_events_in_the_outbox(
    svc: Profiles, repo: InMemoryPersonRepository, wakeups: Wakeups
) -> None:
    person = await svc.register(
        ADA,
        person_id="p-ada",
        weekly_capacity=2,
        traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
    )
    assert (person.version, person.sequence) == (1, 2)
    assert _types(_changes(repo, "p-ada")) == [
        "io.peerloop.profile-registered.v1",
        "io.peerloop.availability-changed.v1",
    ]
    assert all(
        e.key == "p-ada" and e.headers["traceparent"].startswith("00-111")
        for e in _changes(repo, "p-ada")
    )
    assert [json.loads(e.value)["sequence"] for e in _changes(repo, "p-ada")] == [1, 2]
    assert wakeups.named == ["p-ada"]


async def test_register_generates_an_id_when_none_is_given(svc: Profiles) -> None:
    first = await svc.register(ADA, weekly_capacity=2)
    second = await svc.register(ADA, weekly_capacity=2)
    assert first.person_id != second.person_id
    assert first.person_id.startswith("p-")


async def test_registering_a_taken_id_is_refused_and_writes_nothing(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    with pytest.raises(AlreadyRegistered):
        await svc.register(
            ADA.model_copy(update={"team": "x"}), person_id="p-ada", weekly_capacity=2
        )
    assert len(_changes(repo, "p-ada")) == 2
    assert repo.people["p-ada"].details == ADA


async def test_unknown_person_is_not_found(svc: Profiles) -> None:
    with pytest.raises(PersonNotFound):
        await svc.get("p-nobody")
    with pytest.raises(PersonNotFound):
        await svc.offer_skill("p-nobody", OfferedSkill(skill_id="go", level=1))


async def test_each_change_bumps_the_version_and_appends_its_events(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    person = await svc.offer_skill(
        "p-ada", OfferedSkill(skill_id="kubernetes", level=3), expected_version=1
    )
    person = await svc.withdraw_skill("p-ada", " K8s ", expected_version=person.version)
    assert person.version == 3
    assert _types(_changes(repo, "p-ada"))[2:] == [
        "io.peerloop.skill-offered.v1",
        "io.peerloop.skill-withdrawn.v1",
    ]


async def test_a_stale_version_is_a_conflict_and_writes_nothing(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    await svc.offer_skill("p-ada", OfferedSkill(skill_id="go", level=3), expected_version=1)
    before = repo.people["p-ada"]
    with pytest.raises(VersionConflict, match="version 2"):
        await svc.offer_skill("p-ada", OfferedSkill(skill_id="rust", level=3), expected_version=1)
    assert repo.people["p-ada"] == before
    assert len(_changes(repo, "p-ada")) == 3


class RacingRepository(InMemoryPersonRepository):
    """Another writer sneaks in between this writer's read and its save, `races` times."""

    races = 1

    async def save(
        self, person: Person, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        if self.races > 0:
            self.races -= 1
            current = self.people[person.person_id]
            bumped = current.model_copy(update={"version": current.version + 1})
            self.people[person.person_id] = bumped
        return await super().save(person, expected_version, outbox)


async def test_a_concurrent_write_is_a_conflict_when_the_client_sent_a_version() -> None:
    repo = RacingRepository()
    svc = Profiles(repo)
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    with pytest.raises(VersionConflict):
        await svc.offer_skill("p-ada", OfferedSkill(skill_id="go", level=3), expected_version=1)
    assert repo.people["p-ada"].skills_offered == ()


async def test_a_concurrent_write_is_retried_on_a_fresh_read_when_no_version_was_sent() -> None:
    repo = RacingRepository()
    svc = Profiles(repo)
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    person = await svc.offer_skill("p-ada", OfferedSkill(skill_id="go", level=3))
    assert person.version == 3
    assert [s.skill_id for s in repo.people["p-ada"].skills_offered] == ["go"]


async def test_a_change_that_changes_nothing_writes_nothing(
    svc: Profiles, repo: InMemoryPersonRepository, wakeups: Wakeups
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    person = await svc.update_profile("p-ada", lambda d: d)
    assert person.version == 1
    assert len(_changes(repo, "p-ada")) == 2
    assert wakeups.named == ["p-ada"]


async def test_erased_people_refuse_changes(svc: Profiles) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    erased = await svc.erase("p-ada")
    assert erased.details is None
    assert erased.erased_at == NOW
    with pytest.raises(PersonErased):
        await svc.update_profile("p-ada", lambda d: d.model_copy(update={"team": "x"}))
    assert await svc.erase("p-ada") == erased


async def test_bad_skill_names_are_rule_violations(svc: Profiles) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    with pytest.raises(RuleViolation):
        await svc.withdraw_skill("p-ada", "!!!")


async def test_a_session_is_recorded_once_for_learner_and_teacher(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    await svc.register(ADA, person_id="p-tim", weekly_capacity=2)
    await svc.record_session(_session("s-1"))
    await svc.record_session(_session("s-1"))
    ada, tim = repo.people["p-ada"], repo.people["p-tim"]
    assert [s.session_id for s in ada.skills_learned] == ["s-1"]
    assert tim.sessions_taught == ("s-1",)
    assert _types(_changes(repo, "p-ada")).count("io.peerloop.skill-acquired.v1") == 1
    assert len(_changes(repo, "p-tim")) == 2


async def test_a_session_about_people_we_do_not_know_is_skipped(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-tim", weekly_capacity=2)
    await svc.record_session(_session("s-1", learner="p-stranger", teacher="p-tim"))
    assert repo.people["p-tim"].sessions_taught == ("s-1",)
    await svc.record_session(_session("s-2", learner="p-x", teacher="p-y"))
    assert set(repo.people) == {"p-tim"}


async def test_people_offering_a_skill_are_paged_by_id(svc: Profiles) -> None:
    for n in range(5):
        await svc.register(ADA, person_id=f"p-{n}", weekly_capacity=2)
        if n != 2:
            await svc.offer_skill(f"p-{n}", OfferedSkill(skill_id="kubernetes", level=3))
    skill_id, first = await svc.people_offering("k8s", limit=2)
    _, second = await svc.people_offering("k8s", after=first[-1].person_id, limit=2)
    assert skill_id == "kubernetes"
    assert [p.person_id for p in first + second] == ["p-0", "p-1", "p-3", "p-4"]


async def test_every_write_with_events_queues_the_persons_state_after_them(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    await svc.offer_skill("p-ada", OfferedSkill(skill_id="mongodb", level=4, weekly_capacity=2))
    await svc.update_profile("p-ada", lambda d: d)  # no change: no events, no state
    entries = repo.outbox["p-ada"]
    assert [e.topic for e in entries] == [
        "peerloop.profile-registered.v1",
        "peerloop.availability-changed.v1",
        "peerloop.person-state.v1",
        "peerloop.skill-offered.v1",
        "peerloop.person-state.v1",
    ]
    first, latest = (PersonState.decode(e.value or "") for e in _states(repo, "p-ada"))
    assert (first.sequence, first.offers) == (2, [])
    assert latest.sequence == 3 == repo.people["p-ada"].sequence
    assert [(o.skill_id, o.skill_name, o.level) for o in latest.offers] == [
        ("mongodb", "MongoDB", 4)
    ]
    assert (latest.team, latest.weekly_capacity) == ("billing", 2)
    assert "email" not in json.loads(entries[-1].value or "")
    assert entries[-1].key == "p-ada"


async def test_erasure_queues_a_tombstone_of_the_persons_state(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    await svc.erase("p-ada")
    last = repo.outbox["p-ada"][-1]
    assert _types(_changes(repo, "p-ada"))[-1] == "io.peerloop.profile-erased.v1"
    assert (last.topic, last.key, last.value) == ("peerloop.person-state.v1", "p-ada", None)
    assert last.headers["ce_type"] == "io.peerloop.person-state.v1"
    assert last.headers["ce_subject"] == "p-ada"
    assert last.headers["content-type"] == "application/json"  # never empty


async def test_a_private_offer_is_for_matching_only_not_for_people_search(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-open", weekly_capacity=2)
    await svc.register(ADA, person_id="p-quiet", weekly_capacity=2)
    await svc.offer_skill("p-open", OfferedSkill(skill_id="kubernetes", level=3))
    await svc.offer_skill("p-quiet", OfferedSkill(skill_id="kubernetes", level=4, private=True))
    _, found = await svc.people_offering("kubernetes")
    assert [p.person_id for p in found] == ["p-open"]
    # Matching still hears of it, and knows it is private.
    [offered] = [e for e in repo.outbox["p-quiet"] if e.topic == "peerloop.skill-offered.v1"]
    assert json.loads(offered.value)["private"] is True


async def test_proposals_paused_until_a_day_are_published_and_resume_when_left_out(
    svc: Profiles, repo: InMemoryPersonRepository
) -> None:
    await svc.register(ADA, person_id="p-ada", weekly_capacity=2)
    paused = await svc.set_availability(
        "p-ada", weekly_capacity=2, away_periods=(), proposals_paused_until=date(2026, 12, 20)
    )
    assert paused.proposals_paused_until == date(2026, 12, 20)
    await svc.set_availability("p-ada", weekly_capacity=2, away_periods=())
    changes = [
        json.loads(e.value)["proposals_paused_until"]
        for e in repo.outbox["p-ada"]
        if e.topic == "peerloop.availability-changed.v1"
    ]
    assert changes[-2:] == ["2026-12-20", None]
