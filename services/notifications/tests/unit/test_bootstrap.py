"""The service's graph built with the in-memory stores: consumers, use cases and queries at memory speed."""

from __future__ import annotations

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequestUnmatched
from peerloop_contracts.profiles import ProfileRegistered
from peerloop_notifications.adapters.memory_notifications import InMemoryNotificationStore
from peerloop_notifications.adapters.memory_people import InMemoryPeopleStore
from peerloop_notifications.bootstrap import bootstrap
from peerloop_notifications.config import Settings


def _meta(event_type: str, subject: str) -> CloudEventMeta:
    return CloudEventMeta(source="peerloop/test", type=event_type, subject=subject)


async def test_an_event_reaches_the_inbox_through_the_stores_passed_in() -> None:
    people, store = InMemoryPeopleStore(), InMemoryNotificationStore()
    service = bootstrap(Settings(dev_mode=True), people=people, store=store)
    assert (service.people, service.store) == (people, store)

    registered = ProfileRegistered(
        person_id="req",
        display_name="Rae",
        email="req@example.com",
        team="platform",
        time_zone="UTC",
        sequence=1,
    )
    await service.directory.on_profile(registered, _meta(registered.ce_type(), "req"))
    unmatched = HelpRequestUnmatched(
        request_id="r-1",
        requester_id="req",
        sequence=3,
        skill_id="mongodb",
        reason="no_one_offers",
        candidates_tried=0,
    )
    await service.notifier.handle(unmatched, _meta(unmatched.ce_type(), "r-1"))

    page = await service.queries.inbox("req", offset=0, limit=10)
    assert [item.kind for item in page.items] == ["help-request-unmatched"]
    assert "req" in people.people


def test_one_consumer_and_the_delivery_worker_are_registered_once() -> None:
    service = bootstrap(
        Settings(dev_mode=True), people=InMemoryPeopleStore(), store=InMemoryNotificationStore()
    )
    assert [(c.group_id, c.every_replica) for c in service.runtime.consumers] == [
        ("peerloop-notifications", False),
        ("peerloop-notifications.skills", True),  # skill names as the organisation defined
    ]
    assert len(service.runtime.workers) == 2  # the delivery worker, the live feed
