"""The notify use case with in-memory stores: channels, deferral, digest, dedupe, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequestCancelled, MatchAccepted, SessionCompleted
from peerloop_notifications.adapters.memory_notifications import InMemoryNotificationStore
from peerloop_notifications.adapters.memory_people import InMemoryPeopleStore
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import ChannelSwitches, Preferences, QuietHours

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def people_of(*people: Person) -> InMemoryPeopleStore:
    store = InMemoryPeopleStore()
    for p in people:
        doc: dict = {"_id": p.person_id, "time_zone": p.time_zone}
        if p.erased:
            doc["erased"] = True
        else:
            doc |= {"display_name": p.display_name, "email": p.email}
        store.people[p.person_id] = doc
        if p.preferences != Preferences():
            store.preferences[f"{p.person_id}#1"] = {
                "_id": f"{p.person_id}#1",
                "person_id": p.person_id,
                "version": 1,
                "preferences": p.preferences.model_dump(mode="json"),
            }
    return store


def someone(person_id: str, name: str, prefs: Preferences | None = None, **kw) -> Person:
    erased = kw.get("erased", False)  # an erased person keeps no personal data
    return Person(
        person_id=person_id,
        display_name=None if erased else name,
        email=None if erased else f"{person_id}@example.com",
        time_zone=kw.get("time_zone", "UTC"),
        preferences=prefs or Preferences(),
        preferences_version=0,
        erased=erased,
    )


SESSION = SessionCompleted(
    request_id="r-1",
    requester_id="learner",
    session_id="s-1",
    learner_id="learner",
    teacher_id="teacher",
    skill_id="kubernetes",
    level=3,
    duration_minutes=30,
    completed_at=NOON,
    sequence=5,
)


def meta() -> CloudEventMeta:
    return CloudEventMeta(source="peerloop/matching", type=SESSION.ce_type(), subject="r-1")


def notifier(
    people: InMemoryPeopleStore, store: InMemoryNotificationStore, woken: list[str]
) -> Notifier:
    return Notifier(
        people=people,
        store=store,
        on_inbox=lambda p: woken.append(f"inbox:{p}"),
        on_outbound=lambda nid: woken.append(f"worker:{nid}"),
        on_outbox=lambda nid: woken.append(f"relay:{nid}"),
        now=lambda: NOON,
    )


async def test_both_participants_get_inbox_and_email_once_even_when_redelivered():
    people = people_of(someone("learner", "Lena"), someone("teacher", "Tom"))
    store = InMemoryNotificationStore()
    woken: list[str] = []
    use_case = notifier(people, store, woken)
    event_meta = meta()
    await use_case.handle(SESSION, event_meta)
    await use_case.handle(SESSION, event_meta)  # redelivered: same ce_id
    assert sorted(store.docs) == sorted(
        f"{channel}:{p}:{event_meta.id}:session-completed"
        for p in ("learner", "teacher")
        for channel in ("inbox", "email")
    )
    # The worker is told each queued e-mail, once, though the event came twice.
    queued = sorted(nid for nid, doc in store.docs.items() if doc.get("state") == "pending")
    assert queued and all(nid.startswith("email:") for nid in queued)
    assert sorted(w.removeprefix("worker:") for w in woken if w.startswith("worker:")) == queued
    # The relay is told each notification whose outbox holds an event, once.
    with_events = sorted(nid for nid, doc in store.docs.items() if doc.get("outbox"))
    assert with_events
    assert sorted(w.removeprefix("relay:") for w in woken if w.startswith("relay:")) == with_events
    inbox = store.docs[f"inbox:learner:{event_meta.id}:session-completed"]
    assert inbox["read"] is False and [e["topic"] for e in inbox["outbox"]] == [
        "peerloop.notification-delivered.v1"
    ]
    assert "Tom" in inbox["subject"]
    email = store.docs[f"email:teacher:{event_meta.id}:session-completed"]
    assert email["state"] == "pending" and email["next_attempt_at"] == NOON


async def test_quiet_hours_and_digest_defer_outbound_only():
    night_owl = someone(
        "learner",
        "Lena",
        Preferences(quiet_hours=QuietHours(start="20:00", end="23:00")),
        time_zone="Asia/Tokyo",  # 12:00 UTC is 21:00 in Tokyo
    )
    digest = someone("teacher", "Tom", Preferences(digest=True, digest_hour=8))
    store = InMemoryNotificationStore()
    await notifier(people_of(night_owl, digest), store, []).handle(SESSION, m := meta())
    assert store.docs[f"email:learner:{m.id}:session-completed"]["next_attempt_at"] == datetime(
        2026, 12, 3, 14, 0, tzinfo=UTC
    )
    teacher_mail = store.docs[f"email:teacher:{m.id}:session-completed"]
    assert teacher_mail["digest"] is True
    assert teacher_mail["next_attempt_at"] == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert store.docs[f"inbox:learner:{m.id}:session-completed"]["created_at"] == NOON


async def test_unknown_people_get_inbox_and_a_queued_email_erased_people_nothing():
    people = people_of(someone("teacher", "Tom", erased=True))
    store = InMemoryNotificationStore()
    await notifier(people, store, []).handle(SESSION, m := meta())
    assert sorted(store.docs) == [
        f"email:learner:{m.id}:session-completed",
        f"inbox:learner:{m.id}:session-completed",
    ]
    assert "a colleague" in store.docs[f"inbox:learner:{m.id}:session-completed"]["subject"]


def accepted(scheduled_at: datetime) -> MatchAccepted:
    return MatchAccepted(
        request_id="r-1",
        requester_id="learner",
        proposal_id="pr-1",
        helper_id="teacher",
        session_id="s-1",
        skill_id="kubernetes",
        scheduled_at=scheduled_at,
        sequence=4,
    )


async def test_reminders_wait_for_their_time_on_every_channel_ignoring_quiet_hours():
    sleepy = someone(
        "teacher",
        "Tom",
        Preferences(quiet_hours=QuietHours(start="00:00", end="23:59"), digest=True),
    )
    store = InMemoryNotificationStore()
    woken: list[str] = []
    event = accepted(NOON + timedelta(hours=3))
    await notifier(people_of(someone("learner", "Lena"), sleepy), store, woken).handle(
        event, m := meta()
    )
    reminder = store.docs[f"inbox:teacher:{m.id}:session-reminder"]
    assert reminder["kind"] == "session-reminder"
    assert reminder["visible_at"] == NOON + timedelta(hours=2)
    assert reminder["state"] == "pending" and "outbox" not in reminder
    mail = store.docs[f"email:teacher:{m.id}:session-reminder"]
    assert mail["next_attempt_at"] == NOON + timedelta(hours=2) and mail["digest"] is False
    assert "inbox:teacher" not in woken  # nothing to show yet
    # One event, two things to tell the requester: both are kept.
    assert {d["kind"] for d in store.docs.values() if d["_id"].startswith("inbox:learner:")} == {
        "match-accepted",
        "session-reminder",
    }


async def test_no_reminder_for_a_session_already_begun_and_none_left_after_cancelling():
    store = InMemoryNotificationStore()
    people = people_of(someone("learner", "Lena"), someone("teacher", "Tom"))
    await notifier(people, store, []).handle(accepted(NOON - timedelta(minutes=1)), meta())
    # The session under way still goes into both calendars; nobody is reminded of it.
    assert {d["kind"] for d in store.docs.values()} == {"match-accepted", "session-invitation"}

    store = InMemoryNotificationStore()
    await notifier(people, store, []).handle(accepted(NOON + timedelta(hours=5)), meta())
    assert any(d["kind"] == "session-reminder" for d in store.docs.values())
    cancelled = HelpRequestCancelled(
        request_id="r-1", requester_id="learner", skill_id="kubernetes", sequence=6
    )
    await notifier(people, store, []).handle(cancelled, meta())
    assert not any(d["kind"] == "session-reminder" for d in store.docs.values())


def _comparable(docs: dict[str, dict]) -> dict[str, dict]:
    return {k: {**d, "outbox": [e["topic"] for e in d.get("outbox", [])]} for k, d in docs.items()}


def _session(n: int, learner: str, teacher: str) -> SessionCompleted:
    return SESSION.model_copy(
        update={
            "request_id": f"r-{n}",
            "session_id": f"s-{n}",
            "learner_id": learner,
            "requester_id": learner,
            "teacher_id": teacher,
        }
    )


async def test_a_batch_notifies_as_one_by_one_would_in_one_write_and_its_redelivery_changes_nothing():
    people = (
        someone("learner", "Lena"),
        someone("teacher", "Tom"),
        someone("gone", "", erased=True),
        someone("quiet", "Quinn", Preferences(channels=ChannelSwitches(email=False))),
    )
    events = [
        (_session(1, "learner", "teacher"), meta()),
        (_session(2, "gone", "teacher"), meta()),
        (_session(3, "quiet", "learner"), meta()),
    ]
    one_by_one, one_woken = InMemoryNotificationStore(), []
    single = notifier(people_of(*people), one_by_one, one_woken)
    for event, event_meta in events:
        await single.handle(event, event_meta)

    batched, batch_woken = InMemoryNotificationStore(), []
    use_case = notifier(people_of(*people), batched, batch_woken)
    await use_case.handle_batch(events)

    # Alike but for the fresh ce_id and time of each notification-delivered entry.
    assert _comparable(batched.docs) == _comparable(one_by_one.docs)
    assert not any(":gone:" in nid for nid in batched.docs)  # erased: nothing for them
    assert sorted(batch_woken) == sorted(one_woken)
    assert batched.round_trips == 1  # every notification of the batch in one write

    # The batch redelivered whole (a crash before its commit): no new documents, no wakes.
    before = dict(batched.docs)
    batch_woken.clear()
    await use_case.handle_batch(events)
    assert batched.docs == before
    assert batch_woken == []
