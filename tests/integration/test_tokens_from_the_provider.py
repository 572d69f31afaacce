"""A service app and the real identity provider: the tokens it issues are accepted, a new
signing key is picked up while the app runs, and tokens not meant for Peerloop are refused.

The app is the profiles service, in-process on the real broker and store; it knows the
provider only by its issuer (keys come from discovery), as in a deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_cli.identity import SERVICES, IdentityProvider, Tokens, jwt_claims, jwt_header
from peerloop_cli.realm import AUDIENCE
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app
from peerloop_runtime.auth import AuthSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(
    kafka_bootstrap: str,
    mongodb_uri: str,
    mongo_db_name: str,
    run_id: str,
    identity: IdentityProvider,
) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        database=mongo_db_name,
        consumer_group=f"test-tokens-{run_id}",
        shutdown_grace_seconds=15,
        auth=AuthSettings(issuer=identity.issuer, audience=AUDIENCE),
    )


@contextlib.asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client,
    ):
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _profile(person_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Tess Token",
        "email": "tess@example.com",
        "team": "platform",
        "time_zone": "UTC",
    }
    return {**body, "person_id": person_id} if person_id else body


def _assert_invalid_token(response: httpx.Response) -> str:
    """The RFC 6750 challenge of a refused token; returns its error description."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge, challenge
    return challenge.split('error_description="', 1)[-1]


async def _person_token(tokens: Tokens, person_id: str) -> str:
    await tokens.ensure_person(person_id, email=f"{person_id}@example.com", name="Tess Token")
    return await tokens.for_person(person_id)


async def test_a_persons_token_from_the_password_grant_is_accepted(
    settings: Settings, tokens: Tokens, run_id: str
) -> None:
    me = f"tess-{run_id}"
    token = await _person_token(tokens, me)
    claims = jwt_claims(token)
    assert claims["iss"] == tokens.provider.issuer
    assert claims["preferred_username"] == me
    async with _running(settings) as client:
        registered = await client.post("/people", json=_profile(), headers=_bearer(token))
        assert registered.status_code == 201, registered.text
        assert registered.headers["location"] == f"/people/{me}"  # the id is the token's
        got = await client.get(f"/people/{me}", headers=_bearer(token))
    assert got.status_code == 200
    assert got.json()["email"] == "tess@example.com"  # the person's own, private part


async def test_service_account_tokens_from_client_credentials_carry_their_scope(
    settings: Settings, tokens: Tokens, run_id: str
) -> None:
    hr = await tokens.service_account(*SERVICES["hr"])
    insights = await tokens.service_account(*SERVICES["insights"])
    assert "profiles:provision" in jwt_claims(hr)["scope"].split()
    someone = f"hired-{run_id}"
    async with _running(settings) as client:
        provisioned = await client.post("/people", json=_profile(someone), headers=_bearer(hr))
        assert provisioned.status_code == 201, provisioned.text
        read = await client.get(f"/people/{someone}", headers=_bearer(insights))
        assert read.status_code == 200
        assert "email" not in read.json()  # a reader without provisioning sees the public part
        changed = await client.patch(
            f"/people/{someone}", json={"team": "x"}, headers=_bearer(insights)
        )
    assert changed.status_code == 403


async def test_a_rotated_signing_key_is_picked_up_without_a_restart(
    settings: Settings, tokens: Tokens, run_id: str
) -> None:
    me = f"rota-{run_id}"
    async with _running(settings) as client:
        before = await _person_token(tokens, me)
        assert (
            await client.post("/people", json=_profile(), headers=_bearer(before))
        ).status_code == 201

        new_kid = await tokens.rotate_signing_key()
        assert new_kid != jwt_header(before)["kid"]
        after = await tokens.for_person(me)
        assert jwt_header(after)["kid"] == new_kid

        # The app fetches keys at most every `jwks_min_refresh_seconds`; until then a
        # token with an unknown key is a plain 401 (the client tries again), never a 5xx.
        assert settings.auth is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.auth.jwks_min_refresh_seconds + 20
        while True:
            answer = await client.get(f"/people/{me}", headers=_bearer(after))
            if answer.status_code == 200 or loop.time() > deadline:
                break
            _assert_invalid_token(answer)
            await asyncio.sleep(1)
        assert answer.status_code == 200, answer.text
        assert answer.json()["person_id"] == me
        # Tokens signed with the earlier key stay good until they expire.
        assert (await client.get(f"/people/{me}", headers=_bearer(before))).status_code == 200


async def test_tokens_for_another_audience_or_from_another_realm_are_refused(
    settings: Settings, tokens: Tokens, identity: IdentityProvider, run_id: str
) -> None:
    me = f"stray-{run_id}"
    peerloop_token = await _person_token(tokens, me)
    # The realm's own admin console client: same issuer, but not issued for Peerloop.
    console = dataclasses.replace(identity, cli_client_id="admin-cli")
    # The provider's master realm: a valid token of the same server, another issuer.
    master = dataclasses.replace(
        identity,
        issuer=f"{identity.base_url}/realms/master",
        cli_client_id="admin-cli",
        demo_password=identity.admin_password,
    )
    async with Tokens(console) as console_tokens, Tokens(master) as master_tokens:
        no_audience = await console_tokens.for_person(me)
        other_realm = await master_tokens.for_person(identity.admin_user)
    assert AUDIENCE not in jwt_claims(no_audience).get("aud", [])
    assert jwt_claims(other_realm)["iss"] != identity.issuer

    async with _running(settings) as client:
        why = [
            _assert_invalid_token(await client.get(f"/people/{me}", headers=_bearer(token)))
            for token in (no_audience, other_realm)
        ]
        assert "aud" in why[0], why
        # Another realm: refused by its issuer, before its (unknown) key is looked up.
        assert "another issuer" in why[1], why
        assert (
            await client.get(f"/people/{me}", headers=_bearer(peerloop_token))
        ).status_code == 404

    # An app that serves another audience refuses Peerloop's tokens.
    assert settings.auth is not None
    billing = settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"audience": "billing"})}
    )
    async with _running(billing) as client:
        why_not = _assert_invalid_token(
            await client.get(f"/people/{me}", headers=_bearer(peerloop_token))
        )
    assert "another audience" in why_not
