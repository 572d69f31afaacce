"""Acting for a person: only a service account with the configured scope, and only as that
person with nothing more; every other use of the header is refused (403)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from peerloop_runtime.auth import CurrentPrincipal, TokenVerifier, install_auth
from peerloop_runtime.auth.delegation import ACTING_FOR_HEADER
from peerloop_runtime.auth.testing import LocalIssuer

SCOPE = "peerloop:act-for-person"


def _app(issuer: LocalIssuer, **settings: Any) -> FastAPI:
    app = FastAPI()
    install_auth(app, TokenVerifier(issuer.settings(**settings), issuer.key_source))

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "person": principal.person_id,
            "admin": principal.is_admin,
            "scopes": sorted(principal.scopes),
            "delegated_by": principal.delegated_by,
        }

    return app


async def _me(app: FastAPI, token: str, acting_for: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if acting_for is not None:
        headers[ACTING_FOR_HEADER] = acting_for
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/me", headers=headers)


async def test_a_delegated_service_account_becomes_the_person_and_nothing_more() -> None:
    issuer = LocalIssuer()
    token = issuer.service_token(
        "peerloop-chat", scope=f"{SCOPE} profiles:provision", groups=["peerloop-admins"]
    )
    answer = await _me(_app(issuer, delegation_scope=SCOPE), token, "ada")
    assert answer.status_code == 200
    assert answer.json() == {
        "person": "ada",
        "admin": False,
        "scopes": [],
        "delegated_by": "peerloop-chat",
    }


async def test_without_the_header_the_service_account_stays_itself() -> None:
    issuer = LocalIssuer()
    token = issuer.service_token("peerloop-chat", scope=SCOPE)
    answer = await _me(_app(issuer, delegation_scope=SCOPE), token, None)
    assert answer.json()["person"] is None
    assert answer.json()["scopes"] == [SCOPE]


@pytest.mark.parametrize(
    ("settings", "token_kind", "acting_for", "rule"),
    [
        ({}, "chat", "ada", "accepts no Peerloop-Acting-For"),
        ({"delegation_scope": SCOPE}, "person", "ada", "only in their own name"),
        ({"delegation_scope": SCOPE}, "other-service", "ada", "needs the scope"),
        ({"delegation_scope": SCOPE}, "chat", "ada eve", "must be a person id"),
        ({"delegation_scope": SCOPE}, "chat", "x" * 65, "must be a person id"),
    ],
)
async def test_every_other_use_of_the_header_is_refused(
    settings: dict[str, Any], token_kind: str, acting_for: str, rule: str
) -> None:
    issuer = LocalIssuer()
    tokens = {
        "chat": issuer.service_token("peerloop-chat", scope=SCOPE),
        "person": issuer.person_token("eve", scope=f"openid {SCOPE}"),
        "other-service": issuer.service_token("peerloop-hr", scope="profiles:provision"),
    }
    answer = await _me(_app(issuer, **settings), tokens[token_kind], acting_for)
    assert answer.status_code == 403
    assert rule in answer.json()["detail"]


def test_a_blank_delegation_scope_means_none() -> None:
    assert LocalIssuer().settings(delegation_scope="  ").delegation_scope is None
