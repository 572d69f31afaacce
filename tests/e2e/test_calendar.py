"""Sessions in people's calendars, across the real services, broker, store and SMTP catcher.

A proposal suggests the first shared working hours; accepting it at one of them sends
both people an iCalendar invitation by e-mail, at their own local time; calling the
session off sends a CANCEL for the same event with a higher SEQUENCE; each person's
private feed lists the session and answers 404 once revoked.
"""

from __future__ import annotations

import email
import email.message
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import vobject
from peerloop_cli.demo import ask_until_proposed
from peerloop_cli.loop_client import PeerloopClient, wait_for
from peerloop_cli.platform import Deployment

pytestmark = pytest.mark.e2e

ZONES = {"lea": "Europe/Berlin", "tom": "America/New_York"}


def calendar_parts(deployment: Deployment, person: str, method: str) -> list[str]:
    """The text/calendar parts of this METHOD in the e-mails the catcher holds for `person`."""
    found = []
    for path in deployment.mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if person not in str(message["To"]):
            continue
        for part in message.walk():
            if part.get_content_type() == "text/calendar" and part.get_param("method") == method:
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                found.append(payload.decode())
    return found


async def invitations(
    deployment: Deployment, person: str, method: str, *, count: int = 1
) -> list[str]:
    """At least `count` of them, ordered by SEQUENCE."""

    async def look() -> list[str]:
        return calendar_parts(deployment, person, method)

    found = await wait_for(look, lambda f: len(f) >= count, 60, f"{count} {method} for {person}")
    return sorted(found, key=lambda text: int(vobject.readOne(text).vevent.sequence.value))


async def test_an_accepted_session_lands_in_both_calendars_and_leaves_them_again(
    client: PeerloopClient, deployment: Deployment, run_id: str
) -> None:
    lea, tom = f"lea-{run_id}", f"tom-{run_id}"
    skill = f"calendar-{run_id}"
    await client.register(lea, "Lea", "billing", ZONES["lea"])
    await client.register(tom, "Tom", "data", ZONES["tom"])
    await client.offer(tom, skill, level=4, capacity=2)
    rid, proposal = await ask_until_proposed(client, lea, skill)
    assert proposal["helper_id"] == tom
    matching = f"{client.matching_url}/help-requests/{rid}"

    # The proposal suggests times inside both people's working hours (09–17 local).
    suggested = await client._call(
        "GET", f"{matching}/proposals/{proposal['proposal_id']}/slots", person=tom
    )
    assert suggested["time_zones"] == {lea: ZONES["lea"], tom: ZONES["tom"]}
    assert suggested["slots"], "Berlin and New York share working hours on weekdays"
    for slot in suggested["slots"]:
        for person, local in slot["local_start"].items():
            assert 9 <= datetime.fromisoformat(local).hour < 17, (person, local)
    start = datetime.fromisoformat(suggested["slots"][0]["start"])

    # Accepting at the first slot sends both an invitation, each at their own time.
    await client._call(
        "POST",
        f"{matching}/proposals/{proposal['proposal_id']}/accept",
        person=tom,
        json={"scheduled_at": start.isoformat()},
    )
    booked = {
        p: (await invitations(deployment, who, "REQUEST"))[0]
        for p, who in (("lea", lea), ("tom", tom))
    }
    uids = set()
    for p, text in booked.items():
        event = icalendar.Calendar.from_ical(text).events[0]
        parsed = vobject.readOne(text).vevent
        local = start.astimezone(ZoneInfo(ZONES[p]))
        for dtstart in (event.decoded("dtstart"), parsed.dtstart.value):
            assert dtstart == start
            assert (dtstart.hour, dtstart.minute) == (local.hour, local.minute)
        assert f"DTSTART;TZID={ZONES[p]}:" in text
        assert int(parsed.sequence.value) == 0
        uids.add(parsed.uid.value)
    assert len(uids) == 1

    # Tom's private feed lists the session, without a bearer token.
    feed = await client._call(
        "POST", f"{client.notifications_url}/people/{tom}/calendar-feed", person=tom
    )
    async with httpx.AsyncClient(timeout=10) as anonymous:
        answer = await anonymous.get(feed["url"])
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/calendar")
        listed = vobject.readOne(answer.text)
        assert [e.uid.value for e in listed.vevent_list] == list(uids)

        # Tom moves it to the last suggested slot: a new REQUEST of the same event, SEQUENCE 1.
        later = datetime.fromisoformat(suggested["slots"][-1]["start"])
        await client._call(
            "POST",
            f"{matching}/session/reschedule",
            person=tom,
            json={"scheduled_at": later.isoformat()},
        )
        for p, who in (("lea", lea), ("tom", tom)):
            moved = vobject.readOne((await invitations(deployment, who, "REQUEST", count=2))[-1])
            assert moved.vevent.uid.value in uids
            assert int(moved.vevent.sequence.value) == 1
            assert moved.vevent.dtstart.value == later
            assert moved.vevent.dtstart.value.hour == later.astimezone(ZoneInfo(ZONES[p])).hour

        # Lea calls it off: both get a CANCEL of the same event, with a higher SEQUENCE.
        await client._call(
            "POST", f"{matching}/session/cancel", person=lea, json={"reason": "solved"}
        )
        for who in (lea, tom):
            cancel = vobject.readOne((await invitations(deployment, who, "CANCEL"))[0])
            assert cancel.method.value == "CANCEL"
            assert cancel.vevent.uid.value in uids
            assert int(cancel.vevent.sequence.value) == 2
            assert cancel.vevent.status.value == "CANCELLED"

        async def feed_status() -> str:
            return vobject.readOne((await anonymous.get(feed["url"])).text).vevent.status.value

        assert await wait_for(feed_status, lambda s: s == "CANCELLED", 30, "the feed's update")

        # Revoked: the old URL is gone for good; a new one works.
        await client._send(
            "DELETE", f"{client.notifications_url}/people/{tom}/calendar-feed", person=tom
        )
        assert (await anonymous.get(feed["url"])).status_code == 404
        again = await client._call(
            "POST", f"{client.notifications_url}/people/{tom}/calendar-feed", person=tom
        )
        assert (await anonymous.get(feed["url"])).status_code == 404
        assert (await anonymous.get(again["url"])).status_code == 200
