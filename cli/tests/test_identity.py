"""Tokens from the real OpenID Connect provider (the local Keycloak unless PEERLOOP_OIDC_ISSUER).

Kept few: each Keycloak call is cheap, but the first start of the server is not.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from peerloop_cli.demo_data import build_organisation
from peerloop_cli.identity import (
    SERVICES,
    IdentityError,
    IdentityProvider,
    Tokens,
    jwt_claims,
    jwt_header,
)
from peerloop_cli.realm import ADMINS

pytestmark = pytest.mark.integration


async def test_password_grant_gives_a_person_token_with_the_claims_services_check(
    tokens: Tokens, identity: IdentityProvider
) -> None:
    admin = build_organisation().person(ADMINS[0])
    claims = jwt_claims(await tokens.for_person(admin.person_id))
    assert claims["iss"] == identity.issuer
    assert claims["aud"] == "peerloop"
    assert claims["preferred_username"] == admin.person_id
    assert claims["email"] == admin.email
    assert "peerloop-admins" in claims["groups"]

    someone = build_organisation().person("p-001")
    by_email = jwt_claims(await tokens.for_person(someone.email))
    assert by_email["preferred_username"] == "p-001"
    assert by_email["groups"] == ["peerloop-people"]


async def test_a_wrong_password_gets_no_token(identity: IdentityProvider) -> None:
    wrong = IdentityProvider(
        issuer=identity.issuer,
        admin_user=identity.admin_user,
        admin_password=identity.admin_password,
        demo_password="not-the-demo-password",
    )
    async with Tokens(wrong) as tokens:
        with pytest.raises(IdentityError, match="invalid_grant"):
            await tokens.for_person("p-001")


async def test_client_credentials_give_the_service_its_scope_only(tokens: Tokens) -> None:
    client_id, secret, scope = SERVICES["hr"]
    hr = jwt_claims(await tokens.service_account(client_id, secret, scope))
    assert "profiles:provision" in hr["scope"].split()
    assert hr["aud"] == "peerloop"
    assert hr["azp"] == "peerloop-hr"

    client_id, secret, _ = SERVICES["insights"]
    # Asking for a scope the client has not been given is refused outright.
    with pytest.raises(IdentityError, match="invalid_scope"):
        await tokens.service_account(client_id, secret, "profiles:provision")
    with pytest.raises(IdentityError, match="401"):
        await tokens.service_account("peerloop-hr", "wrong-secret", "profiles:provision")


async def test_ensure_person_registers_someone_who_can_then_log_in(tokens: Tokens) -> None:
    person_id = f"t-{uuid.uuid4().hex[:10]}"
    email = f"{person_id}@example.com"
    with pytest.raises(IdentityError):
        await tokens.for_person(person_id)
    await tokens.ensure_person(person_id, email=email, name="Tess Tester")
    await tokens.ensure_person(person_id, email=email, name="Tess Tester")  # idempotent
    claims = jwt_claims(await tokens.for_person(email))
    assert claims["preferred_username"] == person_id
    assert claims["name"] == "Tess Tester"
    assert claims["groups"] == ["peerloop-people"]

    await tokens.ensure_person(person_id, email=email, name="Tess Tester", admin=True)
    assert "peerloop-admins" in jwt_claims(await tokens.for_person(person_id))["groups"]

    other = f"t-{uuid.uuid4().hex[:10]}"
    fresh = jwt_claims(await tokens.for_new_person(other, email=f"{other}@example.com", name="O"))
    assert fresh["preferred_username"] == other


async def test_rotating_the_signing_key_signs_new_tokens_with_a_published_kid(
    tokens: Tokens, identity: IdentityProvider
) -> None:
    before = jwt_header(await tokens.for_person("p-002"))["kid"]
    kid = await tokens.rotate_signing_key()
    assert kid != before
    after = jwt_header(await tokens.for_person("p-002"))
    assert after["kid"] == kid
    assert after["alg"] == "RS256"
    async with httpx.AsyncClient() as client:
        published = {key["kid"] for key in (await client.get(identity.jwks_uri)).json()["keys"]}
    assert {kid, before} <= published  # the old key still verifies tokens issued before
