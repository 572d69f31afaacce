"""Browser sessions, kept in this process: the cookie carries only a random session id.

Tokens never reach the browser. Keycloak's three tokens together are larger than a
cookie may be, and a token in a cookie could be replayed against the services directly.
One process holds the sessions, so a restart signs everyone out and more than one
replica needs sticky sessions (see the README).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field


@dataclass
class Login:
    person_id: str
    display_name: str
    email: str
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float
    """time.time() at which the access token expires."""

    def expires_soon(self, margin_s: float = 30.0) -> bool:
        return time.time() >= self.expires_at - margin_s


@dataclass
class WebSession:
    sid: str
    csrf_token: str
    login: Login | None = None
    asked: list[str] = field(default_factory=list)
    """Requests asked in this session, newest first: matching lists no one's requests, and
    the inbox only tells of requests something happened to."""
    flashes: list[str] = field(default_factory=list)
    last_seen: float = field(default_factory=time.time)

    def remember_request(self, request_id: str) -> None:
        if request_id in self.asked:
            self.asked.remove(request_id)
        self.asked.insert(0, request_id)
        del self.asked[50:]

    def flash(self, message: str) -> None:
        self.flashes.append(message)

    def take_flashes(self) -> list[str]:
        taken, self.flashes = self.flashes, []
        return taken


class SessionStore:
    def __init__(self, idle_seconds: float) -> None:
        self._idle_seconds = idle_seconds
        self._sessions: dict[str, WebSession] = {}

    def new(self) -> WebSession:
        self._purge()
        session = WebSession(sid=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32))
        self._sessions[session.sid] = session
        return session

    def get(self, sid: object) -> WebSession | None:
        if not isinstance(sid, str):
            return None
        session = self._sessions.get(sid)
        if session is None:
            return None
        now = time.time()
        if now - session.last_seen > self._idle_seconds:
            self.drop(sid)
            return None
        session.last_seen = now
        return session

    def drop(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def _purge(self) -> None:
        cutoff = time.time() - self._idle_seconds
        for sid in [s.sid for s in self._sessions.values() if s.last_seen < cutoff]:
            self.drop(sid)
