"""An in-memory calendar store with the contract of the Mongo one (for unit tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from peerloop_notifications.domain.calendar import CalendarSession


@dataclass
class InMemoryCalendarStore:
    sessions: dict[str, CalendarSession] = field(default_factory=dict)
    feeds: dict[str, str] = field(default_factory=dict)
    """Token digest by person."""

    async def get(self, session_id: str) -> CalendarSession | None:
        return self.sessions.get(session_id)

    async def put(self, session: CalendarSession) -> bool:
        if not session.supersedes(self.sessions.get(session.session_id)):
            return False
        self.sessions[session.session_id] = session
        return True

    async def sessions_of(self, person_id: str, *, limit: int) -> list[CalendarSession]:
        mine = [s for s in self.sessions.values() if person_id in s.participants]
        return sorted(mine, key=lambda s: s.starts_at, reverse=True)[:limit]

    async def set_feed(self, person_id: str, digest: str) -> None:
        self.feeds[person_id] = digest

    async def revoke_feed(self, person_id: str) -> bool:
        return self.feeds.pop(person_id, None) is not None

    async def feed_owner(self, digest: str) -> str | None:
        return next((p for p, d in self.feeds.items() if d == digest), None)
