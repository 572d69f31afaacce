"""Bearer tokens on a FastAPI app: 401 challenges, 403 rules, 503 outages, public routes, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from peerloop_runtime.auth import (
    CurrentPrincipal,
    Forbidden,
    Principal,
    PublicRoute,
    TokenVerifier,
    current_principal,
    install_auth,
    mark_public,
    require_admin,
    require_person,
    require_scope,
    routes_without_access_rule,
)
from peerloop_runtime.auth.testing import LocalIssuer
from peerloop_runtime.service import ServiceRuntime
from peerloop_runtime.settings import ServiceSettings

PRIVATE_RULE = "only the person or an admin may read the private part of a profile"


async def who(principal: CurrentPrincipal) -> Principal:
    """A dependency of the route's own that needs the principal."""
    return principal


def _app(issuer: LocalIssuer, **settings: Any) -> FastAPI:
    app = FastAPI()
    install_auth(app, TokenVerifier(issuer.settings(**settings), issuer.key_source))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/metrics")
    async def metrics() -> str:
        return "up 1"

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"person": require_person(principal), "admin": principal.is_admin}

    @app.get("/people/{person_id}/private")
    async def private(person_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        if principal.person_id != person_id and not principal.is_admin:
            raise Forbidden(PRIVATE_RULE)
        return {"person": person_id}

    @app.post("/provision")
    async def provision(principal: CurrentPrincipal) -> dict[str, str]:
        require_scope(principal, "profiles:provision")
        return {"by": principal.client_id or ""}

    @app.delete("/everything")
    async def everything(principal: CurrentPrincipal) -> None:
        require_admin(principal)

    return app


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture
async def client(issuer: LocalIssuer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(issuer), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_valid_token_reaches_the_route(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    answer = await client.get("/me", headers=_bearer(issuer.person_token("ada")))
    assert answer.status_code == 200
    assert answer.json() == {"person": "ada", "admin": False}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YWRhOnB3"}, {"Authorization": "Bearer"}],
    ids=["no header", "another scheme", "no credentials"],
)
async def test_no_token_is_a_bare_challenge(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await client.get("/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="peerloop"'
    assert answer.json() == {"detail": "a bearer token is required"}


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda i: "junk", "the token is not a signed JWT"),
        (lambda i: i.person_token("ada", exp=1), "the token has expired"),
        (lambda i: i.person_token("ada", aud="account"), "the token is meant for another audience"),
        (
            lambda i: i.person_token("ada", iss="https://evil.example"),
            "the token was issued by another issuer",
        ),
        (lambda i: i.person_token("ada")[:-4] + "AAAA", "the token's signature does not verify"),
    ],
    ids=["malformed", "expired", "audience", "issuer", "signature"],
)
async def test_a_bad_token_is_invalid_token(
    client: httpx.AsyncClient, issuer: LocalIssuer, make: Any, description: str
) -> None:
    answer = await client.get("/me", headers=_bearer(make(issuer)))
    assert answer.status_code == 401
    assert (
        answer.headers["www-authenticate"]
        == f'Bearer realm="peerloop", error="invalid_token", error_description="{description}"'
    )
    assert answer.json() == {"detail": description}


async def test_the_challenge_cannot_be_broken_by_a_quote(issuer: LocalIssuer) -> None:
    from peerloop_runtime.auth import Unauthenticated

    challenge = Unauthenticated('bad "alg" \\ here').challenge
    assert challenge.endswith('error_description="bad ?alg? ? here"')


async def test_a_rule_answers_403_with_the_rule(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    answer = await client.get("/people/grace/private", headers=_bearer(issuer.person_token("ada")))
    assert answer.status_code == 403
    assert answer.json() == {"detail": PRIVATE_RULE}
    assert (
        await client.get("/people/ada/private", headers=_bearer(issuer.person_token("ada")))
    ).status_code == 200
    admin = issuer.person_token("root", groups=["peerloop-admins"])
    assert (await client.get("/people/grace/private", headers=_bearer(admin))).status_code == 200


async def test_a_service_account_on_a_person_route_is_forbidden(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    answer = await client.get("/me", headers=_bearer(issuer.service_token("matching")))
    assert answer.status_code == 403
    assert answer.json() == {"detail": "only a person may do this, not a service account"}


async def test_scopes_and_admin(client: httpx.AsyncClient, issuer: LocalIssuer) -> None:
    provisioner = issuer.service_token("matching", scope="profiles:provision")
    assert (await client.post("/provision", headers=_bearer(provisioner))).json() == {
        "by": "matching"
    }
    answer = await client.post("/provision", headers=_bearer(issuer.person_token("ada")))
    assert answer.status_code == 403
    assert answer.json() == {"detail": "this needs the scope 'profiles:provision'"}
    assert (
        await client.delete("/everything", headers=_bearer(issuer.person_token("ada")))
    ).json() == {"detail": "only an admin may do this"}
    admin = issuer.person_token("root", groups=["peerloop-admins"])
    assert (await client.delete("/everything", headers=_bearer(admin))).status_code == 200


async def test_an_unreachable_provider_without_keys_is_503(issuer: LocalIssuer) -> None:
    issuer.key_source.down = True
    transport = httpx.ASGITransport(app=_app(issuer), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        answer = await http.get("/me", headers=_bearer(issuer.person_token("ada")))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "10"
    assert "retry" in answer.json()["detail"]


async def test_public_routes_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200


async def test_closed_docs_need_a_valid_token(issuer: LocalIssuer) -> None:
    transport = httpx.ASGITransport(app=_app(issuer, open_docs=False), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        for path in ("/docs", "/openapi.json", "/metrics"):
            refused = await http.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == 'Bearer realm="peerloop"'
            bad = await http.get(path, headers=_bearer("junk"))
            assert bad.status_code == 401
            assert 'error="invalid_token"' in bad.headers["www-authenticate"]
            assert (
                await http.get(path, headers=_bearer(issuer.service_token("prometheus")))
            ).status_code == 200
        assert (await http.get("/healthz")).status_code == 200


def test_routes_without_access_rule_finds_the_unguarded_ones(issuer: LocalIssuer) -> None:
    app = _app(issuer)
    assert routes_without_access_rule(app) == []

    @app.get("/leak")
    async def leak() -> None: ...

    @app.get("/open", dependencies=[PublicRoute])
    async def open_() -> None: ...

    @app.get("/indirect")
    async def indirect(principal: Annotated[Principal, Depends(who)]) -> None: ...

    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.put("/guarded-by-router")
    async def by_router() -> None: ...

    outer = APIRouter(prefix="/v1")

    @outer.get("/unguarded")
    async def unguarded() -> None: ...

    inner = APIRouter(prefix="/inner", dependencies=[Depends(current_principal)])

    @inner.get("/guarded")
    async def guarded() -> None: ...

    outer.include_router(inner)
    app.include_router(router)
    app.include_router(outer)

    @app.post("/webhook")
    async def webhook() -> None: ...

    mark_public(app, "/webhook")
    assert routes_without_access_rule(app) == ["GET /leak", "GET /v1/unguarded"]


def test_an_app_without_install_auth_counts_every_route(issuer: LocalIssuer) -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/things")
    async def things() -> None: ...

    assert routes_without_access_rule(app) == ["GET /things"]
    assert routes_without_access_rule(FastAPI()) == [
        "GET /openapi.json",
        "GET /docs",
        "GET /docs/oauth2-redirect",
        "GET /redoc",
    ]


def test_openapi_declares_the_bearer_scheme(issuer: LocalIssuer) -> None:
    document = _app(issuer).openapi()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An OpenID Connect access token from Peerloop's identity provider.",
    }
    assert document["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]


async def test_service_runtime_secures_its_app(issuer: LocalIssuer) -> None:
    settings = ServiceSettings(mongodb_uri="mongodb://127.0.0.1:1/", auth=issuer.settings())
    runtime = ServiceRuntime(name="probe", settings=settings)
    assert runtime.auth is not None
    app = FastAPI()
    runtime.secure(app)
    app.include_router(runtime.health_router())

    @app.get("/things")
    async def things(principal: CurrentPrincipal) -> dict[str, str | None]:
        return {"person": principal.person_id}

    assert routes_without_access_rule(app) == []
    await runtime.auth.close()


def test_service_runtime_refuses_to_secure_without_settings() -> None:
    runtime = ServiceRuntime(
        name="probe", settings=ServiceSettings(mongodb_uri="mongodb://127.0.0.1:1/")
    )
    with pytest.raises(RuntimeError, match="PEERLOOP_AUTH__ISSUER"):
        runtime.secure(FastAPI())
