"""Bearer tokens on a FastAPI app: the principal dependency, access rules, error answers.

Wiring (`ServiceRuntime.secure(app)` does the first two lines for a service):

    verifier = TokenVerifier(settings.auth)          # close() it in the lifespan
    install_auth(app, verifier)                      # handlers, docs/metrics policy

    @app.get("/profiles/{person_id}/private")
    async def private(person_id: str, principal: CurrentPrincipal) -> ...:
        if principal.person_id != person_id and not principal.is_admin:
            raise Forbidden("only the person or an admin may read the private part of a profile")
        profile = await store.get(person_id)         # 404 only now
        ...

    @app.get("/healthz", dependencies=[PublicRoute])  # deliberately open

Rules for routes:
- Every route depends on `CurrentPrincipal` (or a dependency that does) or is
  marked public; `routes_without_access_rule(app)` lists the others and a
  service's tests assert it is empty.
- Decide permission before revealing whether a resource exists. When the rule
  depends only on the caller and the path (the person id above), check it
  before reading, so a 404 cannot tell a stranger that another person exists.
  When the rule depends on the stored resource (its owner), answer 404 both
  for "absent" and for "present but not yours", unless the caller may see it.
- `require_person`, `require_scope` and `require_admin` raise `Forbidden`,
  which answers 403 `{"detail": <the rule>}`: say the rule, not the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, FastAPI, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.middleware.base import RequestResponseEndpoint

from peerloop_runtime.auth.delegation import ACTING_FOR_HEADER, acting_principal
from peerloop_runtime.auth.errors import (
    Forbidden,
    IdentityProviderUnavailable,
    Unauthenticated,
)
from peerloop_runtime.auth.principal import Principal
from peerloop_runtime.auth.verifier import TokenVerifier

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An OpenID Connect access token from Peerloop's identity provider.",
)

ALWAYS_PUBLIC = ("/healthz", "/readyz")
METRICS_PATH = "/metrics"


@dataclass
class AuthState:
    verifier: TokenVerifier
    public_paths: set[str] = field(default_factory=set)
    docs_paths: frozenset[str] = frozenset()


def _state(app: Any) -> AuthState:
    state = getattr(app.state, "peerloop_auth", None)
    if not isinstance(state, AuthState):
        raise RuntimeError("install_auth(app, verifier) was not called on this app")
    return state


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    """The verified caller; FastAPI caches it per request, so several uses verify once.

    A service account allowed to may act for a person (`auth.delegation`).
    """
    if credentials is None:
        raise Unauthenticated("a bearer token is required", token_present=False)
    verifier = _state(request.app).verifier
    caller = await verifier.verify(credentials.credentials)
    return acting_principal(caller, request.headers.get(ACTING_FOR_HEADER), verifier.settings)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def public_route() -> None:
    """Marks a route as deliberately open: `dependencies=[PublicRoute]`."""


PublicRoute = Depends(public_route)


def require_person(
    principal: Principal, rule: str = "only a person may do this, not a service account"
) -> str:
    """The caller's person id; `Forbidden` for a service account."""
    if principal.person_id is None:
        raise Forbidden(rule)
    return principal.person_id


def require_scope(principal: Principal, scope: str, rule: str | None = None) -> None:
    if scope not in principal.scopes:
        raise Forbidden(rule or f"this needs the scope {scope!r}")


def require_admin(principal: Principal, rule: str = "only an admin may do this") -> None:
    if not principal.is_admin:
        raise Forbidden(rule)


def mark_public(app: FastAPI, *paths: str) -> None:
    """Paths open on purpose that cannot take `PublicRoute` (mounted apps, say)."""
    _state(app).public_paths.update(paths)


def install_auth(app: FastAPI, verifier: TokenVerifier) -> None:
    """Error answers (401/403/503), and the docs/metrics policy of `settings.open_docs`.

    Call it before the app serves; the bearer scheme enters the OpenAPI document
    through `CurrentPrincipal` on the routes.
    """
    docs = frozenset(
        p
        for p in (
            app.docs_url,
            app.openapi_url,
            app.redoc_url,
            app.swagger_ui_oauth2_redirect_url,
            METRICS_PATH,
        )
        if p
    )
    state = AuthState(verifier, set(ALWAYS_PUBLIC), docs)
    app.state.peerloop_auth = state
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(IdentityProviderUnavailable, _unavailable)
    if not verifier.settings.open_docs:
        app.middleware("http")(_docs_need_a_token(state))


def routes_without_access_rule(app: FastAPI) -> list[str]:
    """`METHOD path` of every route that neither needs the principal nor is marked public."""
    state = getattr(app.state, "peerloop_auth", None)
    open_paths: set[str] = set(ALWAYS_PUBLIC)
    if isinstance(state, AuthState):
        # Docs and metrics are public or token-guarded (by middleware): a rule either way.
        open_paths |= state.public_paths | state.docs_paths
    found: list[str] = []
    for route in effective_routes(app.routes):
        path = str(getattr(route, "path", ""))
        if path in open_paths:
            continue
        dependant = getattr(route, "dependant", None)
        if isinstance(dependant, Dependant) and _depends_on(
            dependant, {current_principal, public_route}
        ):
            continue
        methods: set[str] = set(getattr(route, "methods", None) or {"*"})
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette adds it to every GET
        found.extend(f"{method} {path}" for method in sorted(methods))
    return found


def effective_routes(routes: Sequence[Any]) -> Iterable[Any]:
    # FastAPI 0.16x keeps an included router as one node; `iter_route_contexts` yields
    # its routes with the router's prefix and dependencies applied. Older FastAPI
    # copied them into `app.routes` already.
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    return iterate(routes) if iterate is not None else routes


def _depends_on(dependant: Dependant, calls: set[Callable[..., Any]]) -> bool:
    return dependant.call in calls or any(_depends_on(d, calls) for d in dependant.dependencies)


def _docs_need_a_token(
    state: AuthState,
) -> Callable[[Request, RequestResponseEndpoint], Any]:
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path not in state.docs_paths:
            return await call_next(request)
        # Middleware runs outside the exception handlers: answer directly.
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("a bearer token is required", token_present=False)
            await state.verifier.verify(token.strip())
        except Unauthenticated as exc:
            return await _unauthenticated(request, exc)
        except IdentityProviderUnavailable as exc:
            return await _unavailable(request, exc)
        return await call_next(request)

    return guard


async def _unauthenticated(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthenticated)
    return JSONResponse(
        {"detail": exc.description},
        status_code=401,
        headers={"WWW-Authenticate": exc.challenge},
    )


async def _forbidden(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Forbidden)
    return JSONResponse({"detail": exc.rule}, status_code=403)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdentityProviderUnavailable)
    return JSONResponse(
        {"detail": f"{exc.reason}; retry shortly"},
        status_code=503,
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )
