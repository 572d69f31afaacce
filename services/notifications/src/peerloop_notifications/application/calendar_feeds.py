"""Each person's private calendar feed: a secret URL, rotated or revoked by its owner.

The token is shown once, when made; the store keeps only its SHA-256, so the URL
cannot be read back from the database. A new token ends the old one at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, field

from peerloop_contracts.envelope import utc_now

from peerloop_notifications.application.ports import CalendarStore, Clock, PeopleStore
from peerloop_notifications.domain.calendar import CalendarSession, Participant, feed
from peerloop_notifications.domain.person import DEFAULT_TIME_ZONE, Person

TOKEN_BYTES = 32
"""256 bits: a URL nobody guesses."""
FEED_LIMIT = 500
"""The newest sessions a feed lists."""


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def participant(person_id: str, person: Person | None) -> Participant:
    if person is None or person.erased:
        return Participant(person_id, None, None)
    return Participant(person_id, person.display_name, person.email)


async def participants_of(
    people: PeopleStore, session: CalendarSession, reader_id: str
) -> tuple[Participant, Participant]:
    """(reader, the other person) as the invitation names them."""
    other_id = session.other_than(reader_id)
    reader, other = await asyncio.gather(people.get(reader_id), people.get(other_id))
    return participant(reader_id, reader), participant(other_id, other)


@dataclass
class CalendarFeeds:
    calendar: CalendarStore
    people: PeopleStore
    organizer: str
    now: Clock = field(default=utc_now)

    async def rotate(self, person_id: str) -> str:
        """A new secret token for the person's feed; the previous one stops working."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self.calendar.set_feed(person_id, digest_of(token))
        return token

    async def revoke(self, person_id: str) -> bool:
        return await self.calendar.revoke_feed(person_id)

    async def render(self, token: str) -> str | None:
        """The feed behind a token, or None for a token that is not (or no longer) one."""
        owner = await self.calendar.feed_owner(digest_of(token))
        if owner is None:
            return None
        person = await self.people.get(owner)
        if person is not None and person.erased:
            return None
        sessions = await self.calendar.sessions_of(owner, limit=FEED_LIMIT)
        rows = [
            (session, *await participants_of(self.people, session, owner)) for session in sessions
        ]
        return feed(
            rows,
            time_zone=person.time_zone if person else DEFAULT_TIME_ZONE,
            organizer=self.organizer,
            stamp=self.now(),
        )
