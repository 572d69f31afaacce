"""The service's graph built with an in-memory repository: use cases and consumer at memory speed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import SessionCompleted
from peerloop_profiles.adapters.memory_directory import InMemoryDirectory
from peerloop_profiles.adapters.memory_evidence import InMemoryEvidence
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.adapters.memory_skills import InMemorySkillDefinitions
from peerloop_profiles.bootstrap import bootstrap
from peerloop_profiles.config import Settings
from peerloop_profiles.domain.model import OfferedSkill, ProfileDetails
from peerloop_runtime.kafka import DeadLetter

ADA = ProfileDetails(
    display_name="Ada", email="ada@example.com", team="billing", time_zone="Europe/London"
)


def _session(learner: str, teacher: str) -> SessionCompleted:
    return SessionCompleted(
        request_id="r-1",
        requester_id=learner,
        session_id="s-1",
        learner_id=learner,
        teacher_id=teacher,
        skill_id="mongodb",
        level=2,
        duration_minutes=30,
        completed_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        sequence=3,
    )


def _meta() -> CloudEventMeta:
    return CloudEventMeta(
        source="peerloop/matching", type=SessionCompleted.ce_type(), subject="r-1"
    )


async def test_use_cases_write_through_the_repository_passed_in() -> None:
    people = InMemoryPersonRepository()
    service = bootstrap(
        Settings(),
        people=people,
        directory=InMemoryDirectory(),
        definitions=InMemorySkillDefinitions(),
        evidence_items=InMemoryEvidence(),
    )

    ada = await service.profiles.register(ADA, person_id="p-ada", weekly_capacity=2)

    assert service.people is people
    assert people.people["p-ada"] == ada
    assert people.outbox["p-ada"][0].headers["ce_type"] == "io.peerloop.profile-registered.v1"
    # The fakes replace the stores: nothing is left to prepare on a Mongo collection.
    assert service.runtime.start_hooks == []


async def test_the_consumer_hands_completed_sessions_to_the_use_case() -> None:
    people = InMemoryPersonRepository()
    service = bootstrap(Settings(), people=people, evidence_items=InMemoryEvidence())
    await service.profiles.register(ADA, person_id="p-ada", weekly_capacity=2)
    await service.profiles.register(
        ADA.model_copy(update={"display_name": "Bo", "email": "bo@example.com"}),
        person_id="p-bo",
        weekly_capacity=2,
    )
    await service.profiles.offer_skill("p-bo", OfferedSkill(skill_id="mongodb", level=4))
    [consumer] = [c for c in service.runtime.consumers if SessionCompleted in c.handlers]
    handle = consumer.handlers[SessionCompleted]

    await handle(_session("p-ada", "p-bo"), _meta())

    assert people.people["p-ada"].version == 3  # the skill learned, then its evidence
    assert people.people["p-bo"].evidence_for("mongodb") is not None
    with pytest.raises(DeadLetter, match="same person"):
        await handle(_session("p-ada", "p-ada"), _meta())


def test_the_mongo_repository_is_the_default_and_prepares_its_indexes_first() -> None:
    service = bootstrap(Settings())
    assert type(service.people).__name__ == "MongoPersonRepository"
    assert type(service.provisioning.directory).__name__ == "MongoDirectory"
    assert len(service.runtime.start_hooks) == 4  # each store's indexes
    assert [(c.group_id, c.every_replica) for c in service.runtime.consumers] == [
        ("peerloop-profiles.skills", True),  # each replica reads every skill definition
        ("peerloop-profiles", False),
    ]
