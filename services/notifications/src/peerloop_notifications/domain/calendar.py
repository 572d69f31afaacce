"""Sessions as iCalendar (RFC 5545): invitations (RFC 5546 iTIP) and a person's feed.

One `UID` per session, so every calendar treats a new invitation for it as an update
of the same event; `SEQUENCE` is the session's revision in matching (0 when accepted,
+1 on every move, +1 on cancellation), so a newer version always wins. Times are
written in the reader's own time zone, with its VTIMEZONE, so a client without that
zone's rules still shows the right local time. Pure: the caller passes the moment
the object is made (`DTSTAMP`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

PRODUCT_ID = "-//Peerloop//Sessions//EN"
UID_DOMAIN = "sessions.peerloop"


class Method(StrEnum):
    """The iTIP method of an invitation, or PUBLISH for a feed."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"
    PUBLISH = "PUBLISH"


@dataclass(frozen=True)
class Participant:
    person_id: str
    name: str | None
    email: str | None


@dataclass(frozen=True)
class CalendarSession:
    """What a calendar needs to know of one session, at one revision."""

    session_id: str
    request_id: str
    skill: str
    starts_at: datetime
    minutes: int
    learner_id: str
    teacher_id: str
    revision: int
    cancelled: bool = False

    @property
    def participants(self) -> tuple[str, str]:
        return self.learner_id, self.teacher_id

    def other_than(self, person_id: str) -> str:
        return self.teacher_id if person_id == self.learner_id else self.learner_id

    def supersedes(self, other: CalendarSession | None) -> bool:
        return other is None or self.revision > other.revision


def uid_of(session_id: str) -> str:
    """The same for every version of a session, and unique across organisations' sessions."""
    return f"{session_id}@{UID_DOMAIN}"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _address(who: Participant, parameters: dict[str, str]) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{who.email or f'{who.person_id}@invalid'}")
    if who.name:
        address.params["CN"] = who.name
    address.params.update(parameters)
    return address


def _event(
    session: CalendarSession,
    *,
    reader: Participant,
    other: Participant,
    organizer: str,
    zone: ZoneInfo,
    stamp: datetime,
    link: str | None,
) -> icalendar.Event:
    start = session.starts_at.astimezone(zone)
    event = icalendar.Event()
    event.add("uid", uid_of(session.session_id))
    event.add("sequence", session.revision)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.minutes))
    event.add("summary", f"Peerloop: {session.skill} with {other.name or 'a colleague'}")
    description = f"A Peerloop session about {session.skill}."
    event.add("description", f"{description}\n{link}" if link else description)
    if link:
        event.add("url", link)
    event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", icalendar.vCalAddress(f"mailto:{organizer}"))
    # Both already said yes (one asked, the other accepted): nothing to answer.
    for who in (reader, other):
        event.add(
            "attendee",
            _address(
                who,
                {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"},
            ),
        )
    return event


def _calendar(method: Method, events: list[icalendar.Event], name: str | None) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(event)
    # One VTIMEZONE per zone the events use, built from the zone's own rules and
    # covering whole calendar years from the first event's to the one after the last
    # (RFC 5545 §3.6.5 asks only for the events' span): decades of changes become
    # long RDATE lists that some readers cut short. Whole years, so that readers
    # which keep one definition per TZID (vobject does) see the same one for every
    # session of a year.
    if events:
        years = [e.decoded("dtstart").year for e in events]
        calendar.add_missing_timezones(
            first_date=date(min(years), 1, 1), last_date=date(max(years) + 2, 1, 1)
        )
    text: bytes = calendar.to_ical()
    return text.decode()


def invitation(
    session: CalendarSession,
    *,
    reader: Participant,
    other: Participant,
    time_zone: str,
    organizer: str,
    stamp: datetime,
    link: str | None = None,
) -> str:
    """The iTIP message for `reader`: REQUEST for a booked or moved session, CANCEL for
    one called off (RFC 5546 §3.2.2, §3.2.5)."""
    method = Method.CANCEL if session.cancelled else Method.REQUEST
    event = _event(
        session,
        reader=reader,
        other=other,
        organizer=organizer,
        zone=zone_of(time_zone),
        stamp=stamp,
        link=link,
    )
    return _calendar(method, [event], None)


def method_of(text: str) -> Method:
    """The METHOD of an iCalendar object this module made."""
    calendar = icalendar.Calendar.from_ical(text)
    return Method(str(calendar["METHOD"]))


def feed(
    sessions: Iterable[tuple[CalendarSession, Participant, Participant]],
    *,
    time_zone: str,
    organizer: str,
    stamp: datetime,
    name: str = "Peerloop sessions",
) -> str:
    """A person's subscribed calendar: each of their sessions as (session, reader, other),
    cancelled ones kept with STATUS:CANCELLED so subscribers drop them."""
    zone = zone_of(time_zone)
    events = [
        _event(
            session,
            reader=reader,
            other=other,
            organizer=organizer,
            zone=zone,
            stamp=stamp,
            link=None,
        )
        for session, reader, other in sessions
    ]
    return _calendar(Method.PUBLISH, events, name)
