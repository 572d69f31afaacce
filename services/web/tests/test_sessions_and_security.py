"""Without a provider: sign-in is required, forms need the CSRF token, cookies are safe."""

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_web.app import SESSION_COOKIE, create_app
from peerloop_web.auth_routes import _safe_next
from peerloop_web.oidc import Provider
from peerloop_web.sessions import Login, SessionStore
from peerloop_web.settings import Settings


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(oidc_issuer="http://127.0.0.1:9/realms/none"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        # https: the client keeps the Secure session cookie only there.
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8100") as c:
            yield c


async def test_pages_send_strangers_to_sign_in_first(web: httpx.AsyncClient):
    answer = await web.get("/ask?skill=go")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/ask%3Fskill%3Dgo"
    live = await web.get("/home/live", headers={"X-Requested-With": "fetch"})
    assert live.status_code == 401


async def test_the_session_cookie_is_http_only_secure_and_same_site(web: httpx.AsyncClient):
    answer = await web.get("/signed-out")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "secure" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "default-src 'self'" in answer.headers["content-security-policy"]


async def test_a_form_without_the_session_token_is_refused(web: httpx.AsyncClient):
    await web.get("/signed-out")
    refused = await web.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "too old to send" in refused.text


def test_after_sign_in_only_paths_of_this_app():
    assert _safe_next("/requests/r-1") == "/requests/r-1"
    assert _safe_next("//evil.example/x") == "/"
    assert _safe_next("https://evil.example/") == "/"


def test_idle_sessions_end():
    store = SessionStore(idle_seconds=60)
    session = store.new()
    assert store.get(session.sid) is session
    session.last_seen = time.time() - 61
    assert store.get(session.sid) is None
    assert store.get(None) is None


def _login(expires_in: float) -> Login:
    return Login(
        "p-1", "P One", "p1@example.com", "old", "refresh-1", "id", time.time() + expires_in
    )


async def test_an_expiring_access_token_is_renewed_with_the_refresh_token():
    seen: list[dict[str, str]] = []

    def provider(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": "http://idp/token"})
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        if seen[-1]["refresh_token"] == "refresh-1":
            return httpx.Response(
                200, json={"access_token": "new", "refresh_token": "refresh-2", "expires_in": 300}
            )
        return httpx.Response(400, json={"error": "invalid_grant"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as http:
        idp = Provider(Settings(oidc_issuer="http://idp/realms/x"), http)
        login = _login(expires_in=5)
        assert login.expires_soon()
        assert await idp.refresh(login)
        assert (login.access_token, login.refresh_token) == ("new", "refresh-2")
        assert not login.expires_soon()
        assert seen[0]["grant_type"] == "refresh_token"
        assert seen[0]["client_id"] == "peerloop-web"
        # A refresh token the provider no longer honours: the person signs in again.
        assert not await idp.refresh(login)


async def test_a_form_sent_after_the_sign_in_ran_out_says_so(web: httpx.AsyncClient):
    page = await web.get("/signed-out")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = await web.post("/ask", data={"csrf_token": token, "task": "typed"})
    assert answer.status_code == 401
    assert "Your sign-in has run out" in answer.text
