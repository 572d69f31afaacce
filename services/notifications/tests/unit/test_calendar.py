"""Invitations and feeds as iCalendar, read back by two independent parsers.

`icalendar` writes them; `vobject` (its own parser, and time zones built from the
VTIMEZONE text rather than the zone database) must read the same local times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from peerloop_notifications.domain.calendar import (
    CalendarSession,
    Method,
    Participant,
    feed,
    invitation,
    method_of,
    uid_of,
)

STAMP = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LEA = Participant("p-lea", "Lea Berg", "lea@example.com")
TOM = Participant("p-tom", "Tom Hale", "tom@example.com")
ORGANIZER = "sessions@peerloop.example"


def session(starts_at: datetime, *, revision: int = 0, cancelled: bool = False) -> CalendarSession:
    return CalendarSession(
        session_id="r-1.s",
        request_id="r-1",
        skill="MongoDB",
        starts_at=starts_at,
        minutes=45,
        learner_id=LEA.person_id,
        teacher_id=TOM.person_id,
        revision=revision,
        cancelled=cancelled,
    )


def text_for(s: CalendarSession, zone: str) -> str:
    return invitation(s, reader=LEA, other=TOM, time_zone=zone, organizer=ORGANIZER, stamp=STAMP)


# (reader's zone, the session's start in UTC, what the reader's wall clock shows)
LOCAL_TIMES = {
    "Berlin in winter": ("Europe/Berlin", "2026-03-02T14:00", "2026-03-02T15:00", "+0100"),
    "New York in winter": ("America/New_York", "2026-03-02T14:00", "2026-03-02T09:00", "-0500"),
    "New York after its change": (
        "America/New_York", "2026-03-09T14:00", "2026-03-09T10:00", "-0400",
    ),
    "Berlin after its change": ("Europe/Berlin", "2026-03-30T14:00", "2026-03-30T16:00", "+0200"),
    "Kolkata, a half-hour zone": ("Asia/Kolkata", "2026-03-02T14:00", "2026-03-02T19:30", "+0530"),
    "Sydney, the next day": ("Australia/Sydney", "2026-03-02T14:00", "2026-03-03T01:00", "+1100"),
    "UTC": ("UTC", "2026-03-02T14:00", "2026-03-02T14:00", "+0000"),
    "an unknown zone reads as UTC": ("Mars/Olympus", "2026-03-02T14:00", "2026-03-02T14:00", "+0000"),
}  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("zone", "start", "wall", "offset"), LOCAL_TIMES.values(), ids=LOCAL_TIMES)
def test_icalendar_reads_the_local_time(zone, start, wall, offset):
    event = icalendar.Calendar.from_ical(text_for(session(utc(start)), zone)).events[0]
    dtstart = event.decoded("dtstart")
    assert dtstart.replace(tzinfo=None) == datetime.fromisoformat(wall)
    assert dtstart.strftime("%z") == offset
    assert dtstart == utc(start)
    assert event.decoded("dtend") - dtstart == timedelta(minutes=45)


@pytest.mark.parametrize(("zone", "start", "wall", "offset"), LOCAL_TIMES.values(), ids=LOCAL_TIMES)
def test_vobject_reads_the_same_local_time_from_the_vtimezone(zone, start, wall, offset):
    parsed = vobject.readOne(text_for(session(utc(start)), zone))
    dtstart = parsed.vevent.dtstart.value
    assert dtstart.replace(tzinfo=None) == datetime.fromisoformat(wall)
    assert dtstart.strftime("%z") == offset
    assert dtstart == utc(start)
    assert parsed.vevent.dtend.value - dtstart == timedelta(minutes=45)


def test_two_people_in_two_zones_see_one_moment_at_their_own_times():
    s = session(utc("2026-03-02T14:00"))
    texts = {zone: text_for(s, zone) for zone in ("Europe/Berlin", "America/New_York")}
    for zone, text in texts.items():
        assert f"DTSTART;TZID={zone}:" in text
    berlin = vobject.readOne(texts["Europe/Berlin"]).vevent
    new_york = vobject.readOne(texts["America/New_York"]).vevent
    assert (berlin.dtstart.value.hour, new_york.dtstart.value.hour) == (15, 9)
    assert berlin.dtstart.value == new_york.dtstart.value
    assert berlin.uid.value == new_york.uid.value == uid_of("r-1.s")


def test_an_invitation_is_an_itip_request_both_have_accepted():
    text = text_for(session(utc("2026-03-02T14:00")), "Europe/Berlin")
    parsed = vobject.readOne(text)
    assert parsed.method.value == "REQUEST"
    assert method_of(text) is Method.REQUEST
    event = parsed.vevent
    assert event.sequence.value == "0"
    assert event.status.value == "CONFIRMED"
    assert event.organizer.value == f"mailto:{ORGANIZER}"
    attendees = {a.value: a.params for a in event.attendee_list}
    assert set(attendees) == {"mailto:lea@example.com", "mailto:tom@example.com"}
    assert all(p["PARTSTAT"] == ["ACCEPTED"] for p in attendees.values())
    assert "Tom Hale" in event.summary.value
    # One VTIMEZONE, the reader's, and nothing floating.
    assert [tz.tzid.value for tz in parsed.vtimezone_list] == ["Europe/Berlin"]


@pytest.mark.parametrize(
    ("change", "method", "sequence", "status"),
    [
        ({"revision": 1}, "REQUEST", "1", "CONFIRMED"),
        ({"revision": 2, "cancelled": True}, "CANCEL", "2", "CANCELLED"),
    ],
    ids=["moved", "cancelled"],
)
def test_a_change_keeps_the_uid_and_raises_the_sequence(change, method, sequence, status):
    first = vobject.readOne(text_for(session(utc("2026-03-02T14:00")), "UTC")).vevent
    changed = vobject.readOne(text_for(session(utc("2026-03-03T14:00"), **change), "UTC"))
    assert changed.method.value == method
    assert changed.vevent.uid.value == first.uid.value
    assert int(changed.vevent.sequence.value) > int(first.sequence.value)
    assert changed.vevent.sequence.value == sequence
    assert changed.vevent.status.value == status


def test_a_feed_lists_every_session_in_the_readers_zone():
    booked = session(utc("2026-03-02T14:00"))
    called_off = CalendarSession(
        session_id="r-2.s",
        request_id="r-2",
        skill="Kubernetes",
        starts_at=utc("2026-03-09T14:00"),
        minutes=30,
        learner_id=TOM.person_id,
        teacher_id=LEA.person_id,
        revision=1,
        cancelled=True,
    )
    text = feed(
        [(booked, LEA, TOM), (called_off, LEA, TOM)],
        time_zone="America/New_York",
        organizer=ORGANIZER,
        stamp=STAMP,
    )
    parsed = vobject.readOne(text)
    assert parsed.method.value == "PUBLISH"
    events = {e.uid.value: e for e in parsed.vevent_list}
    assert set(events) == {uid_of("r-1.s"), uid_of("r-2.s")}
    assert events[uid_of("r-1.s")].dtstart.value.hour == 9
    assert events[uid_of("r-2.s")].dtstart.value.hour == 10  # after New York's change
    assert events[uid_of("r-2.s")].status.value == "CANCELLED"
    assert len(icalendar.Calendar.from_ical(text).events) == 2


def test_an_empty_feed_is_still_a_calendar():
    text = feed([], time_zone="UTC", organizer=ORGANIZER, stamp=STAMP)
    assert vobject.readOne(text).method.value == "PUBLISH"
    assert icalendar.Calendar.from_ical(text).events == []
