"""A signed-in person against services that refuse: the page says why and keeps the input."""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_web import help_routes
from peerloop_web.app import create_app
from peerloop_web.context import AppState
from peerloop_web.sessions import Login, WebSession
from peerloop_web.settings import Settings


@dataclass
class Signed:
    client: httpx.AsyncClient
    session: WebSession
    calls: list[httpx.Request]


def _services(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/help-requests":
        return httpx.Response(
            503, json={"detail": "unknown requester"}, headers={"Retry-After": "1"}
        )
    if request.url.path.endswith("/skills"):
        return httpx.Response(
            422, json={"detail": [{"loc": ["body", "skill"], "msg": "is not a skill name"}]}
        )
    if request.url.path.endswith("/preferences"):
        return httpx.Response(200, json={"person_id": "p-1", "version": 1, "preferences": {}})
    if request.url.path == "/people/p-1":
        return httpx.Response(200, json={"person_id": "p-1", "time_zone": "Europe/Berlin"})
    return httpx.Response(404, json={"detail": "nothing here"})


@pytest.fixture
async def signed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Signed]:
    monkeypatch.setattr(help_routes, "ASK_RETRY_SECONDS", 0.2)
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _services(request)

    app = create_app(Settings(oidc_issuer="http://127.0.0.1:9/realms/none"))
    async with LifespanManager(app) as manager:
        state: AppState = app.state.web
        state.http = httpx.AsyncClient(transport=httpx.MockTransport(record))
        transport = httpx.ASGITransport(app=manager.app)
        # https: the client keeps the Secure session cookie only there (browsers also on
        # http://127.0.0.1).
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8100") as c:
            await c.get("/signed-out")
            [session] = state.store._sessions.values()
            session.login = Login("p-1", "P One", "p1@x.org", "tok", None, None, time.time() + 600)
            yield Signed(c, session, calls)
        await state.http.aclose()


async def test_a_503_while_asking_says_try_again_and_keeps_every_field(signed: Signed):
    form = {
        "csrf_token": signed.session.csrf_token,
        "idempotency_key": "k-1",
        "task": "Flaky <b>deploys</b> since Tuesday",
        "skill": "k8s",
        "level": "3",
        "urgency": "high",
        "format": "pairing",
        "needed_by": "",
    }
    answer = await signed.client.post("/ask", data=form)
    assert answer.status_code == 503
    assert "try again in a moment" in answer.text
    assert "Flaky &lt;b&gt;deploys&lt;/b&gt; since Tuesday</textarea>" in answer.text
    assert 'value="k8s"' in answer.text
    assert '<option value="high" selected>' in answer.text
    asks = [c for c in signed.calls if c.url.path == "/help-requests"]
    # It retried by itself, every time with the same key: matching can only ask once.
    assert len(asks) >= 2
    assert {c.headers["Idempotency-Key"] for c in asks} == {"k-1"}
    assert all(c.headers["Authorization"] == "Bearer tok" for c in asks)


async def test_a_refused_field_is_marked_next_to_it(signed: Signed):
    form = {
        "csrf_token": signed.session.csrf_token,
        "skill": "???",
        "level": "3",
        "weekly_capacity": "1",
        "description": "what I typed",
    }
    answer = await signed.client.post("/profile/skills", data=form)
    assert answer.status_code == 422
    assert 'id="skill-error">is not a skill name' in answer.text
    assert 'value="what I typed"' in answer.text
