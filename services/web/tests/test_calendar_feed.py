"""The web app's calendar parts: the private feed URL on the profile page (shown once,
revocable), and the suggested slots on a proposal, one of which the helper accepts."""

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_web.app import create_app
from peerloop_web.context import AppState
from peerloop_web.sessions import Login, WebSession
from peerloop_web.settings import Settings

FEED = "https://peerloop.example/notifications/calendar/" + "s" * 43 + ".ics"


@dataclass
class Signed:
    client: httpx.AsyncClient
    session: WebSession
    calls: list[httpx.Request]


REQUEST = {
    "request_id": "r-1",
    "version": 2,
    "state": "proposed",
    "requester_id": "p-2",
    "skill_id": "python",
    "desired_level": 2,
    "task": "a flaky test",
    "urgency": "normal",
    "format": "call",
    "max_minutes": 60,
    "created_at": "2026-12-01T09:00:00+00:00",
    "proposals": [
        {
            "proposal_id": "r-1.p1", "attempt": 1, "helper_id": "p-1", "skill_id": "python",
            "score": 0.5, "breakdown": [], "status": "pending",
            "proposed_at": "2026-12-01T09:00:00+00:00",
            "expires_at": "2099-12-01T09:00:00+00:00",
        }
    ],
}  # fmt: skip
SLOTS = {
    "proposal_id": "r-1.p1",
    "minutes": 60,
    "time_zones": {"p-1": "Europe/Berlin", "p-2": "America/New_York"},
    "slots": [
        {"start": "2026-12-02T14:00:00Z", "end": "2026-12-02T15:00:00Z", "local_start": {}},
        {"start": "2026-12-02T15:00:00Z", "end": "2026-12-02T16:00:00Z", "local_start": {}},
    ],
}


def _services(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/help-requests/r-1":
        return httpx.Response(200, json=REQUEST)
    if request.url.path == "/help-requests/r-1/why":
        return httpx.Response(200, json=[])
    if request.url.path == "/help-requests/r-1/proposals/r-1.p1/slots":
        return httpx.Response(200, json=SLOTS)
    if request.url.path == "/help-requests/r-1/proposals/r-1.p1/accept":
        return httpx.Response(200, json=REQUEST | {"state": "accepted"})
    if request.url.path == "/people/p-1/calendar-feed" and request.method == "POST":
        return httpx.Response(201, json={"url": FEED, "path": "/calendar/x.ics"})
    if request.url.path == "/people/p-1/calendar-feed" and request.method == "DELETE":
        return httpx.Response(204)
    if request.url.path.endswith("/preferences"):
        return httpx.Response(200, json={"person_id": "p-1", "version": 1, "preferences": {}})
    if request.url.path == "/people/p-1":
        return httpx.Response(200, json={"person_id": "p-1", "time_zone": "Europe/Berlin"})
    return httpx.Response(404, json={"detail": "nothing here"})


@pytest.fixture
async def signed() -> AsyncIterator[Signed]:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _services(request)

    app = create_app(Settings(oidc_issuer="http://127.0.0.1:9/realms/none"))
    async with LifespanManager(app) as manager:
        state: AppState = app.state.web
        state.http = httpx.AsyncClient(transport=httpx.MockTransport(record))
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8100") as c:
            await c.get("/signed-out")
            [session] = state.store._sessions.values()
            session.login = Login("p-1", "P One", "p1@x.org", "tok", None, None, time.time() + 600)
            yield Signed(c, session, calls)
        await state.http.aclose()


async def test_the_profile_shows_a_new_feed_url_once(signed: Signed):
    page = await signed.client.get("/profile")
    assert "Make a new feed address" in page.text
    assert FEED not in page.text
    answer = await signed.client.post(
        "/profile/calendar-feed", data={"csrf_token": signed.session.csrf_token}
    )
    assert answer.status_code == 200
    assert f'<a id="calendar-feed-url" href="{FEED}">' in answer.text
    made = [c for c in signed.calls if c.url.path.endswith("/calendar-feed")]
    assert [(c.method, c.headers["Authorization"]) for c in made] == [("POST", "Bearer tok")]
    assert FEED not in (await signed.client.get("/profile")).text


async def test_revoking_the_feed_calls_notifications_and_says_so(signed: Signed):
    answer = await signed.client.post(
        "/profile/calendar-feed/revoke",
        data={"csrf_token": signed.session.csrf_token},
        follow_redirects=True,
    )
    assert "no longer works" in answer.text
    assert [c.method for c in signed.calls if c.url.path.endswith("/calendar-feed")] == ["DELETE"]


async def test_without_the_csrf_token_nothing_is_made(signed: Signed):
    answer = await signed.client.post("/profile/calendar-feed", data={})
    assert answer.status_code == 403
    assert not [c for c in signed.calls if c.url.path.endswith("/calendar-feed")]


async def test_a_proposal_offers_the_shared_slots_in_my_time_zone(signed: Signed):
    page = await signed.client.get("/requests/r-1/proposals/r-1.p1")
    assert page.status_code == 200
    assert 'id="suggested-slots"' in page.text
    # 14:00 UTC on a Berlin wall clock in December.
    assert 'value="2026-12-02T14:00:00Z"> Wed 02 Dec 2026, 15:00 (CET)' in page.text


async def test_accepting_a_suggested_slot_books_that_moment(signed: Signed):
    answer = await signed.client.post(
        "/requests/r-1/proposals/r-1.p1/accept",
        data={"csrf_token": signed.session.csrf_token, "slot": "2026-12-02T15:00:00Z"},
    )
    assert answer.status_code == 303
    [accept] = [c for c in signed.calls if c.url.path.endswith("/accept")]
    assert json.loads(accept.content) == {"scheduled_at": "2026-12-02T15:00:00+00:00"}


async def test_a_slot_without_its_offset_is_refused_with_the_field_marked(signed: Signed):
    answer = await signed.client.post(
        "/requests/r-1/proposals/r-1.p1/accept",
        data={"csrf_token": signed.session.csrf_token, "slot": "2026-12-02T15:00:00"},
    )
    assert answer.status_code == 422
    assert not [c for c in signed.calls if c.url.path.endswith("/accept")]
