"""The web app: sessions, sign-in, pages, and the handlers that turn refusals into pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from peerloop_web import auth_routes, help_routes, inbox_routes, insights_routes, profile_routes
from peerloop_web.context import AppState, CsrfError, LoginRequiredError, render
from peerloop_web.oidc import Provider
from peerloop_web.service_api import ServiceUrls
from peerloop_web.sessions import SessionStore
from peerloop_web.settings import Settings

SESSION_COOKIE = "peerloop_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.service_timeout_seconds) as http:
            app.state.web = AppState(
                settings=settings,
                store=SessionStore(settings.session_idle_seconds),
                provider=Provider(settings, http),
                http=http,
                urls=ServiceUrls(
                    settings.profiles_url,
                    settings.matching_url,
                    settings.notifications_url,
                    settings.insights_url,
                ),
            )
            yield

    app = FastAPI(title="Peerloop web", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_idle_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, exc: LoginRequiredError) -> Response:
        if request.headers.get("X-Requested-With") == "fetch":
            return JSONResponse({"detail": "sign in again"}, status_code=401)
        if request.method != "GET":
            # Redirecting would drop what was sent; the browser's Back still has it.
            return await render(
                None,
                request,
                "problem.html",
                status_code=401,
                problem="Your sign-in has run out. Sign in again, then go back and send "
                "the form once more: your browser still has what you typed.",
                sign_in=True,
            )
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(CsrfError)
    async def csrf_refused(request: Request, _exc: CsrfError) -> Response:
        return await render(
            None,
            request,
            "problem.html",
            status_code=403,
            problem="This form was too old to send. Please go back, reload the page and "
            "send it again.",
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static"
    )
    for module in (auth_routes, help_routes, inbox_routes, insights_routes, profile_routes):
        app.include_router(module.router)
    return app
