"""What every page handler needs: the browser session, the person's API client, rendering.

`Person` is a FastAPI dependency: it finds the session from the cookie, refreshes the
access token when it is about to expire and sends anyone not signed in to the login.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from peerloop_web.oidc import Provider
from peerloop_web.service_api import ServiceApi, ServiceError, ServiceUrls
from peerloop_web.sessions import Login, SessionStore, WebSession
from peerloop_web.settings import Settings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@dataclass
class AppState:
    settings: Settings
    store: SessionStore
    provider: Provider
    http: httpx.AsyncClient
    urls: ServiceUrls


class LoginRequiredError(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfError(Exception):
    pass


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.web
    return state


def browser_session(request: Request) -> WebSession:
    """The session of this browser, made on first sight (a CSRF token is needed even on the
    sign-in page)."""
    state = state_of(request)
    session = state.store.get(request.session.get("sid"))
    if session is None:
        session = state.store.new()
        request.session["sid"] = session.sid
    return session


@dataclass
class SignedIn:
    request: Request
    session: WebSession
    login: Login
    api: ServiceApi

    @property
    def me(self) -> str:
        return self.login.person_id


async def signed_in(request: Request) -> SignedIn:
    state = state_of(request)
    session = browser_session(request)
    login = session.login
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if login is None:
        raise LoginRequiredError(path)
    if login.expires_soon() and not await state.provider.refresh(login):
        session.login = None
        raise LoginRequiredError(path)
    api = ServiceApi(state.http, state.urls, login.access_token, login.person_id)
    return SignedIn(request, session, login, api)


Person = Annotated[SignedIn, Depends(signed_in)]


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token, as a form field or header."""
    session = browser_session(request)
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfError


Csrf = Depends(check_csrf)


async def unread_count(who: SignedIn) -> int:
    try:
        answer = await who.api.call(
            "GET", f"{who.api.urls.notifications}/people/{who.me}/inbox/unread-count"
        )
    except ServiceError:
        return 0
    return int(answer.get("unread", 0))


async def render(
    who: SignedIn | None,
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    session = who.session if who else browser_session(request)
    base: dict[str, Any] = {
        "csrf_token": session.csrf_token,
        "me": who.login if who else None,
        "flashes": session.take_flashes(),
        "unread": await unread_count(who) if who and not context.get("fragment") else 0,
    }
    return TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def form_values(form: Any) -> dict[str, str]:
    """The fields as typed, so a page shown again after an error keeps every one."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}
