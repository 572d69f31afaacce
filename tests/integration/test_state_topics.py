"""Entity state topics on the real broker and store, over time.

Each test runs the services on a private copy of the topics (`peerloop-test-<run>.…`,
outside the public namespace) whose change-event topics keep records for 2 seconds
and whose state topics are compacted within seconds. So what takes the broker days in
production happens here while the test waits:

- retention empties the change-event topics, and a consumer that starts afterwards (a
  plain one, and a fresh matching with an empty store) still builds the current state
  of every person from the compacted state topic, and a fresh insights shows the live
  one's current-state figures;
- after an erasure and compaction, the state topics hold no record with data about
  the erased person, nor about the help requests they asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from peerloop_cli.testing.topic_sets import private_prefix, private_topic_set, topic_prefix
from peerloop_cli.testing.topics import read_records
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts import matching as matching_events
from peerloop_contracts import profiles as profile_events
from peerloop_contracts.profiles import EVENTS as PROFILE_EVENTS
from peerloop_contracts.states import HelpRequestState, PersonState
from peerloop_insights.application.queries import InsightsQueries
from peerloop_insights.bootstrap import InsightsService
from peerloop_insights.bootstrap import bootstrap as insights_bootstrap
from peerloop_insights.config import Settings as InsightsSettings
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.bootstrap import MatchingService
from peerloop_matching.bootstrap import bootstrap as matching_bootstrap
from peerloop_matching.config import Settings as MatchingSettings
from peerloop_profiles.bootstrap import ProfilesService
from peerloop_profiles.bootstrap import bootstrap as profiles_bootstrap
from peerloop_profiles.config import Settings as ProfilesSettings
from peerloop_profiles.domain.model import LearningGoal, OfferedSkill, ProfileDetails
from peerloop_runtime.outbox import outbox_entry
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

CHANGE_RETENTION_MS = 2_000


@pytest.fixture
async def private_topics(
    kafka_bootstrap: str, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    with topic_prefix(monkeypatch, private_prefix(run_id)):
        async with private_topic_set(
            kafka_bootstrap, change_retention_ms=CHANGE_RETENTION_MS, change_segment_ms=500
        ):
            yield run_id


@pytest.fixture
async def databases(mongodb_uri: str, run_id: str) -> AsyncIterator[list[str]]:
    """Names for the services' databases, dropped afterwards."""
    names: list[str] = []
    yield names
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        for name in names:
            await client.drop_database(name)
    finally:
        await client.close()


async def _profiles(kafka: str, mongo: str, databases: list[str], run_id: str) -> ProfilesService:
    databases.append(f"t_{run_id}_profiles")
    service = profiles_bootstrap(
        ProfilesSettings(
            kafka_bootstrap_servers=kafka,
            mongodb_uri=mongo,
            database=databases[-1],
            consumer_group=f"test-{run_id}-profiles",
        )
    )
    await service.runtime.start()
    return service


async def _matching(
    kafka: str, mongo: str, databases: list[str], run_id: str, name: str
) -> MatchingService:
    """A matching deployment with an empty store of its own and consumer groups never used."""
    databases.append(f"t_{run_id}_{name}")
    service = matching_bootstrap(
        MatchingSettings(
            kafka_bootstrap_servers=kafka,
            mongodb_uri=mongo,
            database=databases[-1],
            consumer_group=f"test-{run_id}-{name}",
            requester_wait_seconds=10,
        )
    )
    await service.runtime.start()
    return service


def _details(name: str, team: str) -> ProfileDetails:
    return ProfileDetails(
        display_name=name.title(),
        email=f"{name}@example.com",
        team=team,
        time_zone="Europe/Berlin",
    )


async def _settled(service: ProfilesService | MatchingService) -> None:
    """Everything written so far is on the broker."""
    await eventually(
        lambda: _backlog_empty(service), timeout=60, what="the outbox relay has published all"
    )


async def _backlog_empty(service: ProfilesService | MatchingService) -> bool:
    await service.runtime.relay.drain()
    return await service.runtime.relay.backlog() == 0


async def _emptied_by_retention(kafka: str, topics: list[str]) -> bool:
    """Records were written to every topic, and retention has deleted them all."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    written = {tp.topic for tp, end in ends.items() if end > 0}
    return written == set(topics) and all(starts[tp] == ends[tp] for tp in partitions)


async def _equal(actual: Awaitable[Any], wanted: Any) -> bool:
    return await actual == wanted


def _fold(records: list[Any]) -> dict[str, dict[str, Any]]:
    """A subscriber's bootstrap: the last record per key wins, a tombstone deletes."""
    state: dict[str, dict[str, Any]] = {}
    for record in records:
        key = record.key.decode()
        if record.value is None:
            state.pop(key, None)
        else:
            state[key] = json.loads(record.value)
    return state


async def test_after_retention_emptied_the_change_events_a_fresh_consumer_rebuilds_every_person(
    private_topics: str, kafka_bootstrap: str, mongodb_uri: str, databases: list[str]
) -> None:
    run = private_topics
    ada, bob, eve = f"ada-{run}", f"bob-{run}", f"eve-{run}"
    profiles = await _profiles(kafka_bootstrap, mongodb_uri, databases, run)
    try:
        use = profiles.profiles
        await use.register(_details("ada", "billing"), person_id=ada, weekly_capacity=3)
        await use.offer_skill(ada, OfferedSkill(skill_id="python", level=4, weekly_capacity=2))
        await use.offer_skill(ada, OfferedSkill(skill_id="go", level=2))
        await use.set_learning_goal(ada, LearningGoal(skill_id="rust", target_level=3))
        await use.register(_details("bob", "ops"), person_id=bob, weekly_capacity=2)
        await use.offer_skill(bob, OfferedSkill(skill_id="python", level=3))
        await use.withdraw_skill(bob, "python")
        await use.offer_skill(bob, OfferedSkill(skill_id="sql", level=5))
        await use.update_profile(bob, lambda d: d.model_copy(update={"team": "platform"}))
        await use.register(_details("eve", "billing"), person_id=eve, weekly_capacity=1)
        await use.offer_skill(eve, OfferedSkill(skill_id="python", level=5))
        await use.erase(eve)
        await _settled(profiles)
        expected = {pid: await use.get(pid) for pid in (ada, bob)}
    finally:
        await profiles.runtime.stop()

    # The whole history went through the change-event topics, and retention removed it.
    change_topics = sorted(
        e.topic()
        for e in PROFILE_EVENTS
        if e.event_name
        in {"profile-registered", "profile-updated", "skill-offered", "skill-withdrawn",
            "availability-changed", "learning-goal-set", "profile-erased"}
    )  # fmt: skip
    await eventually(
        lambda: _emptied_by_retention(kafka_bootstrap, change_topics),
        timeout=120,
        interval=1.0,
        what="retention deleted every change event",
    )

    # A plain consumer starting now: the state topic from the beginning is the whole state.
    records = await read_records(kafka_bootstrap, PersonState.topic())
    rebuilt = {k: v for k, v in _fold(records).items() if run in k}
    assert set(rebuilt) == {ada, bob}, "eve was erased: her key ends with a tombstone"
    for pid, person in expected.items():
        state = PersonState.decode(rebuilt[pid])
        assert person.details is not None
        assert state.sequence == person.sequence
        assert (state.team, state.weekly_capacity) == (person.details.team, person.weekly_capacity)
        assert [(o.skill_id, o.level) for o in state.offers] == [
            (o.skill_id, o.level) for o in person.skills_offered
        ]
        assert [(g.skill_id, g.target_level) for g in state.goals] == [
            (g.skill_id, g.target_level) for g in person.learning_goals
        ]
        assert "email" not in rebuilt[pid]

    # A fresh matching deployment (empty store, new groups) rebuilds its candidates.
    matching = await _matching(kafka_bootstrap, mongodb_uri, databases, run, "fresh")
    try:

        async def candidates() -> dict[str, Any]:
            found = {pid: await matching.candidates.get(pid) for pid in (ada, bob)}
            return {
                pid: (c.team, c.weekly_capacity, {s: o.level for s, o in c.offers.items()})
                for pid, c in found.items()
                if c is not None
            }

        wanted = {ada: ("billing", 3, {"python": 4, "go": 2}), bob: ("platform", 2, {"sql": 5})}
        await eventually(
            lambda: _equal(candidates(), wanted), timeout=60, what="matching rebuilt ada and bob"
        )
        assert await matching.candidates.get(eve) is None
        assert await matching.candidates.erased(eve)
        # The rebuilt read model matches: bob asking for python is proposed ada.
        request = await matching.help_requests.create(
            NewHelpRequest(requester_id=bob, skill="python", desired_level=2, task="a task")
        )

        async def proposed() -> str | None:
            current = await matching.help_requests.get(request.request_id)
            return current.proposals[0].helper_id if current.proposals else None

        assert await eventually(proposed, timeout=30, what="a proposal") == ada
    finally:
        await matching.runtime.stop()


async def _with_data_about(kafka: str, topic: str, keys: set[str]) -> list[Any]:
    records = await read_records(kafka, topic)
    return [r for r in records if r.key.decode() in keys and r.value is not None]


async def _close_segments(kafka: str, topic: str) -> None:
    """Compaction leaves the open segment alone: one record per partition closes it."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        filler = outbox_entry(
            PersonState(
                person_id="filler", display_name="Filler", team="none", time_zone="UTC",
                weekly_capacity=0, sequence=1,
            )
        )  # fmt: skip
        for partition in sorted(await producer.partitions_for(topic)):
            await producer.send_and_wait(
                topic,
                value=(filler.value or "").encode(),
                key=b"filler",
                partition=partition,
                headers=[(k, v.encode()) for k, v in filler.headers.items()],
            )
    finally:
        await producer.stop()


async def test_after_erasure_and_compaction_the_state_topics_hold_no_data_about_the_person(
    private_topics: str, kafka_bootstrap: str, mongodb_uri: str, databases: list[str]
) -> None:
    run = private_topics
    gone, tom = f"gone-{run}", f"tom-{run}"
    profiles = await _profiles(kafka_bootstrap, mongodb_uri, databases, run)
    matching = await _matching(kafka_bootstrap, mongodb_uri, databases, run, "live")
    try:
        use = profiles.profiles
        await use.register(_details("gone", "billing"), person_id=gone, weekly_capacity=2)
        await use.register(_details("tom", "ops"), person_id=tom, weekly_capacity=2)
        await use.offer_skill(tom, OfferedSkill(skill_id="python", level=4))
        for level in (1, 2, 3):
            await use.offer_skill(gone, OfferedSkill(skill_id="go", level=level))
        await eventually(lambda: matching.candidates.get(gone), timeout=60, what="gone known")
        await eventually(lambda: matching.candidates.get(tom), timeout=60, what="tom known")
        asked = await matching.help_requests.create(
            NewHelpRequest(requester_id=gone, skill="python", desired_level=2, task="my task")
        )
        await _settled(profiles)
        await _settled(matching)
        before = await _with_data_about(kafka_bootstrap, PersonState.topic(), {gone})
        assert len(before) == 4  # registered, and three offers
        assert await _with_data_about(kafka_bootstrap, HelpRequestState.topic(), {asked.request_id})

        await use.erase(gone)
        await _settled(profiles)
        await eventually(
            lambda: matching.candidates.erased(gone), timeout=60, what="matching erased gone"
        )
        await _settled(matching)
    finally:
        await matching.runtime.stop()
        await profiles.runtime.stop()

    await asyncio.sleep(1.0)  # past segment.ms: the next record rolls the segment
    for topic in (PersonState.topic(), HelpRequestState.topic()):
        await _close_segments(kafka_bootstrap, topic)

    async def forgotten() -> bool:
        people = await _with_data_about(kafka_bootstrap, PersonState.topic(), {gone})
        asked_for = await _with_data_about(
            kafka_bootstrap, HelpRequestState.topic(), {asked.request_id}
        )
        return not people and not asked_for

    await eventually(forgotten, timeout=120, interval=2.0, what="compaction forgot gone")
    # Tom's state stays: compaction keeps the newest record of every other key.
    assert await _with_data_about(kafka_bootstrap, PersonState.topic(), {tom})


FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)


async def _insights(
    kafka: str, mongo: str, names: list[str], run_id: str, name: str
) -> InsightsService:
    names.append(f"t_{run_id}_{name}")
    service = insights_bootstrap(
        InsightsSettings(
            kafka_bootstrap_servers=kafka,
            mongodb_uri=mongo,
            database=names[-1],
            consumer_group=f"test-{run_id}-{name}",
        )
    )
    await service.runtime.start()
    return service


async def _current(service: InsightsService) -> dict[str, Any]:
    """The figures a fresh deployment must rebuild: current state, not time windows."""
    # Unsuppressed (k=1): the test compares the counts of one or two people.
    queries = InsightsQueries(service.log, service.pseudonyms, k=1, refresh_seconds=0)
    await queries.refresh(force=True)
    report = await queries.figures(window="all", team=None, now=FAR_FUTURE)
    return {
        "skills": sorted(
            (r.skill, r.requests.value, r.offerers.value, r.unmatched.value, r.waiting.value)
            for r in report.skills
        ),
        "flows": sorted((f.teacher_team, f.learner_team, f.sessions.value) for f in report.flows),
        "completed": report.outcomes.completed.value,
    }


async def test_a_fresh_insights_rebuilds_the_current_figures_from_the_state_topics(
    private_topics: str, kafka_bootstrap: str, mongodb_uri: str, databases: list[str]
) -> None:
    run = private_topics
    ada, bob, cy, eve = (f"{n}-{run}" for n in ("ada", "bob", "cy", "eve"))
    live = await _insights(kafka_bootstrap, mongodb_uri, databases, run, "live")
    profiles = await _profiles(kafka_bootstrap, mongodb_uri, databases, run)
    matching = await _matching(kafka_bootstrap, mongodb_uri, databases, run, "matching")
    try:
        use = profiles.profiles
        await use.register(_details("ada", "billing"), person_id=ada, weekly_capacity=3)
        await use.offer_skill(ada, OfferedSkill(skill_id="python", level=4, weekly_capacity=2))
        await use.offer_skill(ada, OfferedSkill(skill_id="go", level=3))
        await use.withdraw_skill(ada, "go")
        await use.register(_details("bob", "ops"), person_id=bob, weekly_capacity=2)
        await use.offer_skill(bob, OfferedSkill(skill_id="sql", level=5))
        await use.update_profile(bob, lambda d: d.model_copy(update={"team": "platform"}))
        await use.register(_details("cy", "search"), person_id=cy, weekly_capacity=2)
        await use.register(_details("eve", "billing"), person_id=eve, weekly_capacity=1)
        await use.offer_skill(eve, OfferedSkill(skill_id="rust", level=5))
        for pid in (ada, bob, cy):
            await eventually(lambda p=pid: matching.candidates.get(p), timeout=60, what=pid)

        # bob learns python from ada: proposed, accepted, confirmed by both.
        asked = await matching.help_requests.create(
            NewHelpRequest(requester_id=bob, skill="python", desired_level=2, task="a task")
        )

        async def proposal() -> Any:
            current = await matching.help_requests.get(asked.request_id)
            return current.proposals[0] if current.proposals else None

        first = await eventually(proposal, timeout=30, what="a proposal")
        await matching.help_requests.accept(asked.request_id, first.proposal_id, ada)
        for actor in (bob, ada):
            await matching.help_requests.confirm(asked.request_id, actor, minutes=30)
        # Nobody offers kotlin: cy's request waits for a helper.
        await matching.help_requests.create(
            NewHelpRequest(requester_id=cy, skill="kotlin", desired_level=2, task="a task")
        )
        await use.erase(eve)
        await _settled(profiles)
        await _settled(matching)

        async def live_done() -> dict[str, Any] | None:
            figures = await _current(live)
            return figures if figures["completed"] == 1 else None

        live_figures = await eventually(live_done, timeout=60, what="the live insights")
    finally:
        await matching.runtime.stop()
        await profiles.runtime.stop()
        await live.runtime.stop()

    assert live_figures["flows"] == [("billing", "platform", 1)]
    skills = {s[0]: s for s in live_figures["skills"]}
    assert skills["python"][2] == 1 and skills["sql"][2] == 1  # ada, bob offering
    assert "rust" not in skills or not skills["rust"][2]  # eve was erased

    change_topics = sorted(
        {
            e.topic()
            for e in (
                profile_events.ProfileRegistered,
                profile_events.ProfileUpdated,
                profile_events.SkillOffered,
                profile_events.SkillWithdrawn,
                matching_events.HelpRequested,
                matching_events.MatchProposed,
                matching_events.MatchAccepted,
                matching_events.SessionCompleted,
            )
        }
    )
    await eventually(
        lambda: _emptied_by_retention(kafka_bootstrap, change_topics),
        timeout=120,
        interval=1.0,
        what="retention deleted every change event",
    )

    fresh = await _insights(kafka_bootstrap, mongodb_uri, databases, run, "fresh")
    try:

        async def same() -> bool:
            return await _current(fresh) == live_figures

        await eventually(same, timeout=60, what="the fresh insights shows the live figures")
    finally:
        await fresh.runtime.stop()
