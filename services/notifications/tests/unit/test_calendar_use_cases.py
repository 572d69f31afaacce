"""Invitations through the notify use case, the e-mail's calendar part and the private feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import vobject
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import MatchAccepted, SessionCancelled, SessionRescheduled
from peerloop_notifications.adapters.email_sender import SmtpSender
from peerloop_notifications.adapters.memory_calendar import InMemoryCalendarStore
from peerloop_notifications.adapters.memory_notifications import InMemoryNotificationStore
from peerloop_notifications.adapters.memory_people import InMemoryPeopleStore
from peerloop_notifications.application.calendar_feeds import CalendarFeeds
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.application.ports import Outgoing
from peerloop_notifications.domain.calendar import uid_of

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
BASE = {"request_id": "r-1", "requester_id": "lea"}
SESSION = {"session_id": "r-1.s", "learner_id": "lea", "teacher_id": "tom", "skill_id": "mongodb"}
ACCEPTED = MatchAccepted(
    **BASE, proposal_id="r-1.p1", helper_id="tom", session_id="r-1.s", skill_id="mongodb",
    scheduled_at=START, minutes=45, sequence=3,
)  # fmt: skip
MOVED = SessionRescheduled(
    **BASE, **SESSION, scheduled_at=START + timedelta(days=1), minutes=45, revision=1,
    rescheduled_by="tom", sequence=4,
)  # fmt: skip
CANCELLED = SessionCancelled(**BASE, **SESSION, revision=2, cancelled_by="lea", sequence=5)


def people() -> InMemoryPeopleStore:
    store = InMemoryPeopleStore()
    for pid, name, zone in (("lea", "Lea", "Europe/Berlin"), ("tom", "Tom", "America/New_York")):
        store.people[pid] = {
            "_id": pid, "display_name": name, "email": f"{pid}@example.com", "time_zone": zone,
        }  # fmt: skip
    return store


class World:
    def __init__(self) -> None:
        self.people = people()
        self.store = InMemoryNotificationStore()
        self.calendar = InMemoryCalendarStore()
        self.notifier = Notifier(
            people=self.people,
            store=self.store,
            now=lambda: NOON,
            calendar=self.calendar,
            organizer="sessions@peerloop.example",
        )
        self.feeds = CalendarFeeds(
            self.calendar, self.people, "sessions@peerloop.example", now=lambda: NOON
        )

    async def send(self, event, *, batch: bool = False) -> CloudEventMeta:
        meta = CloudEventMeta(source="peerloop/matching", type=event.ce_type(), subject="r-1")
        if batch:
            await self.notifier.handle_batch([(event, meta)])
        else:
            await self.notifier.handle(event, meta)
        return meta

    def invitation(self, person: str, meta: CloudEventMeta):
        doc = self.store.docs[f"email:{person}:{meta.id}:session-invitation"]
        return vobject.readOne(doc["calendar"])


@pytest.mark.parametrize("batch", [False, True], ids=["one event", "a batch"])
async def test_both_people_get_an_invitation_at_their_own_time(batch):
    world = World()
    meta = await world.send(ACCEPTED, batch=batch)
    lea, tom = world.invitation("lea", meta), world.invitation("tom", meta)
    assert lea.method.value == tom.method.value == "REQUEST"
    assert lea.vevent.uid.value == tom.vevent.uid.value == uid_of("r-1.s")
    assert (lea.vevent.dtstart.value.hour, tom.vevent.dtstart.value.hour) == (16, 10)
    assert lea.vevent.dtend.value - lea.vevent.dtstart.value == timedelta(minutes=45)
    assert "Tom" in lea.vevent.summary.value and "Lea" in tom.vevent.summary.value
    # Only the e-mail carries it: the inbox already tells of the session.
    assert not any(k.startswith("inbox:") and "invitation" in k for k in world.store.docs)


async def test_a_move_and_a_cancellation_update_the_same_event():
    world = World()
    first = world.invitation("tom", await world.send(ACCEPTED))
    moved = world.invitation("tom", await world.send(MOVED))
    cancelled = world.invitation("tom", await world.send(CANCELLED))
    assert [c.method.value for c in (first, moved, cancelled)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert {c.vevent.uid.value for c in (first, moved, cancelled)} == {uid_of("r-1.s")}
    assert [int(c.vevent.sequence.value) for c in (first, moved, cancelled)] == [0, 1, 2]
    assert cancelled.vevent.dtstart.value == START + timedelta(days=1)
    assert cancelled.vevent.status.value == "CANCELLED"


async def test_a_late_older_version_changes_no_calendar():
    world = World()
    await world.send(ACCEPTED)
    await world.send(CANCELLED)
    meta = await world.send(MOVED)  # arrives last, from another topic
    assert "calendar" not in world.store.docs[f"email:lea:{meta.id}:session-invitation"]
    stored = await world.calendar.get("r-1.s")
    assert stored is not None and stored.cancelled and stored.revision == 2


async def test_the_email_carries_the_invitation_as_a_text_calendar_part():
    world = World()
    meta = await world.send(ACCEPTED)
    doc = world.store.docs[f"email:lea:{meta.id}:session-invitation"]
    mail = SmtpSender("127.0.0.1", 25, "sessions@peerloop.example").build(
        Outgoing(doc["_id"], "lea@example.com", doc["subject"], doc["body"], doc["calendar"])
    )
    assert mail.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p for p in mail.iter_parts()}
    assert set(parts) == {"text/plain", "text/calendar"}
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    assert vobject.readOne(parts["text/calendar"].get_content()).vevent.uid.value == uid_of("r-1.s")


async def test_a_feed_lists_the_persons_sessions_until_its_token_is_rotated_or_revoked():
    world = World()
    await world.send(ACCEPTED)
    token = await world.feeds.rotate("tom")
    assert len(token) >= 43
    text = await world.feeds.render(token)
    assert text is not None
    parsed = vobject.readOne(text)
    assert [e.uid.value for e in parsed.vevent_list] == [uid_of("r-1.s")]
    assert parsed.vevent.dtstart.value.hour == 10  # Tom's New York time
    assert token not in str(world.calendar.feeds)  # only its digest is kept

    newer = await world.feeds.rotate("tom")
    assert await world.feeds.render(token) is None
    assert await world.feeds.render(newer) is not None
    assert await world.feeds.revoke("tom") is True
    assert await world.feeds.render(newer) is None
    assert await world.feeds.revoke("tom") is False
