"""Every event type has one owner, and the consumer path refuses records from anyone else."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from peerloop_contracts.catalogue import ALL_EVENTS, OWNER_BY_TOPIC, SERVICES, owned_by
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequested, SessionCompleted
from peerloop_contracts.notifications import NotificationDelivered
from peerloop_contracts.profiles import SkillOffered
from peerloop_contracts.schema_tools import REPO_DIR
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_contracts.schema_tools.json_schemas import producer_schema
from peerloop_runtime.kafka import EventConsumer, impostor_reason
from peerloop_runtime.outbox import outbox_entry

ASYNCAPI_DIR = REPO_DIR / "contracts" / "asyncapi"

# Written out independently of the declarations, so a type moved to the wrong owner fails.
OWNER_BY_NAME_PREFIX = {
    "profile-": "profiles",
    "skill-": "profiles",
    "availability-": "profiles",
    "learning-goal-": "profiles",
    "person-": "profiles",
    "organisation-skill-": "profiles",
    "help-": "matching",
    "match-": "matching",
    "session-": "matching",
    "feedback-": "matching",
    "programme-": "matching",
    "notification-": "notifications",
}


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.event_name)
def test_each_event_type_is_owned_by_the_service_its_name_says(event: Any) -> None:
    [owner] = {o for p, o in OWNER_BY_NAME_PREFIX.items() if event.event_name.startswith(p)}
    assert event.owner == owner
    assert event.ce_source() == f"peerloop/{owner}"
    assert OWNER_BY_TOPIC[event.topic()] == owner
    assert outbox_entry(example_of(event)).headers["ce_source"] == f"peerloop/{owner}"
    schema = producer_schema(event, with_example=False)
    assert (schema["x-owner"], schema["x-ce-source"]) == (owner, f"peerloop/{owner}")


def test_every_service_owns_something_and_every_type_has_one_owner() -> None:
    assert SERVICES == ("profiles", "matching", "notifications")
    owned = [e for service in SERVICES for e in owned_by(service)]
    assert sorted(owned, key=str) == sorted(ALL_EVENTS, key=str)
    assert len(owned) == len(set(owned))


@pytest.mark.parametrize(
    ("event", "topic", "source", "reason"),
    [
        (SkillOffered, "peerloop.skill-offered.v1", "peerloop/profiles", None),
        (HelpRequested, "peerloop.help-requested.v1", "peerloop/matching", None),
        (
            NotificationDelivered,
            "peerloop.notification-delivered.v1",
            "peerloop/notifications",
            None,
        ),
        (
            SkillOffered,
            "peerloop.skill-offered.v1",
            "evil",
            "ce_source 'evil' is not the owner 'peerloop/profiles' of io.peerloop.skill-offered.v1",
        ),
        (
            SessionCompleted,
            "peerloop.session-completed.v1",
            "peerloop/profiles",
            "ce_source 'peerloop/profiles' is not the owner 'peerloop/matching' "
            "of io.peerloop.session-completed.v1",
        ),
        (
            # Close is not enough: the owner's source exactly.
            SkillOffered,
            "peerloop.skill-offered.v1",
            "peerloop/profiles/",
            "ce_source 'peerloop/profiles/' is not the owner 'peerloop/profiles' "
            "of io.peerloop.skill-offered.v1",
        ),
        (
            # A writer of skill-offered passing off matching's event on its own topic.
            HelpRequested,
            "peerloop.skill-offered.v1",
            "peerloop/matching",
            "ce_type io.peerloop.help-requested.v1 does not travel on peerloop.skill-offered.v1",
        ),
    ],
)
def test_impostor_reason(event: Any, topic: str, source: str, reason: str | None) -> None:
    assert impostor_reason(event, topic, source) == reason


class _Message:
    """The two things `EventConsumer` reads from a FastStream message."""

    def __init__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.raw_message = record
        self.consumer = None


def _record(topic: str, offset: int, body: bytes, headers: dict[str, str]) -> Any:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"p-1",
        value=body,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(body),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


@pytest.mark.parametrize(
    ("source", "handled", "dlq_reason"),
    [
        ("peerloop/profiles", True, None),
        (
            "evil",
            False,
            "impostor: ce_source 'evil' is not the owner 'peerloop/profiles' "
            "of io.peerloop.skill-offered.v1",
        ),
        (
            "peerloop/matching",
            False,
            "impostor: ce_source 'peerloop/matching' is not the owner 'peerloop/profiles' "
            "of io.peerloop.skill-offered.v1",
        ),
    ],
)
async def test_the_consumer_dead_letters_an_impostor_unhandled(
    monkeypatch: pytest.MonkeyPatch, source: str, handled: bool, dlq_reason: str | None
) -> None:
    broker = KafkaBroker("127.0.0.1:1")  # never connected: publish is replaced below
    published: list[dict[str, Any]] = []

    async def publish(value: bytes, **kwargs: Any) -> None:
        published.append({"value": value, **kwargs})

    monkeypatch.setattr(broker, "publish", publish)
    seen: list[SkillOffered] = []

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        seen.append(event)

    consumer = EventConsumer(broker, group_id="g", handlers={SkillOffered: handle})
    entry = outbox_entry(example_of(SkillOffered))
    headers = {**entry.headers, "ce_source": source}
    record = _record(entry.topic, 7, entry.value.encode(), headers)

    await consumer._consume(entry.value.encode(), _Message(record))  # type: ignore[arg-type]

    assert bool(seen) is handled
    if dlq_reason is None:
        assert published == []
        return
    [dead] = published
    assert dead["topic"] == "peerloop.skill-offered.v1.dlq"
    assert dead["value"] == entry.value.encode()
    assert dead["headers"]["dlq_reason"] == dlq_reason
    assert dead["headers"]["dlq_error_type"] == "ImpostorEvent"
    assert dead["headers"]["dlq_source_offset"] == "7"
    assert dead["headers"]["ce_source"] == source
    assert consumer.stats.dead_lettered == 1


@pytest.mark.parametrize("service", SERVICES)
def test_the_asyncapi_messages_name_their_owner(service: str) -> None:
    doc = yaml.safe_load((ASYNCAPI_DIR / f"{service}.yaml").read_text())
    owners = {
        m["name"]: (m["x-owner"], m["x-ce-source"]) for m in doc["components"]["messages"].values()
    }
    for event in ALL_EVENTS:
        if event.ce_type() in owners:  # the service publishes or consumes it
            assert owners[event.ce_type()] == (event.owner, f"peerloop/{event.owner}")
    assert {e.ce_type() for e in owned_by(service)} <= set(owners)
