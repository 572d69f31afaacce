"""Sign in, the provider's callback, sign out."""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peerloop_web.context import Csrf, browser_session, render, state_of

router = APIRouter()


def _safe_next(value: object) -> str:
    """Only paths of this app: `next` must not send anyone elsewhere after signing in."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


@router.get("/login")
async def login(request: Request, next: str = "/") -> Response:
    state = state_of(request)
    request.session["next"] = _safe_next(next)
    redirect: Response = await state.provider.client.authorize_redirect(
        request, f"{state.settings.base_url}/auth/callback"
    )
    return redirect


@router.get("/auth/callback")
async def callback(request: Request) -> Response:
    state = state_of(request)
    try:
        token = await state.provider.client.authorize_access_token(request)
    except OAuthError as exc:
        return await render(
            None,
            request,
            "signed_out.html",
            status_code=400,
            problem=f"Signing in did not work ({exc.error}). Please try again.",
        )
    next_path = _safe_next(request.session.pop("next", "/"))
    # A new session id on sign-in: an id planted before cannot ride on this login.
    old = request.session.get("sid")
    if isinstance(old, str):
        state.store.drop(old)
    session = state.store.new()
    session.login = state.provider.login_from(token)
    request.session["sid"] = session.sid
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout", dependencies=[Csrf])
async def logout(request: Request) -> Response:
    state = state_of(request)
    session = browser_session(request)
    login = session.login
    state.store.drop(session.sid)
    request.session.clear()
    target = await state.provider.logout_url(login, f"{state.settings.base_url}/signed-out")
    return RedirectResponse(target, status_code=303)


@router.get("/signed-out", response_class=HTMLResponse)
async def signed_out(request: Request) -> Response:
    return await render(None, request, "signed_out.html")
