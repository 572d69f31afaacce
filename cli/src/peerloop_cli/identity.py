"""Access tokens from the OpenID Connect provider, for the CLI, the demo and tests.

    provider = IdentityProvider.from_env()       # the local Keycloak unless told otherwise
    async with Tokens(provider) as tokens:
        token = await tokens.for_person("p-001")                 # or an e-mail address
        await tokens.ensure_person("t-42", email="t42@example.com", name="Test Person")
        hr = await tokens.service_account("peerloop-hr", HR_SECRET, "profiles:provision")
    token_for("p-001")                            # the same, synchronously (the CLI)

People log in with the password grant of the public `peerloop-cli` client and the
demo realm's one password; service accounts with client credentials. Tokens are
cached per subject and fetched anew shortly before they expire. Registering people
and rotating keys use Keycloak's admin REST API with the master realm's bootstrap
admin, so those two need a Keycloak; getting tokens needs any provider whose
clients are set up like the demo realm's.

Environment (all optional; the defaults are the local Keycloak of `peerloop infra up`):
    PEERLOOP_OIDC_ISSUER            e.g. http://127.0.0.1:8180/realms/peerloop
    PEERLOOP_OIDC_ADMIN_USER        master-realm admin (default PEERLOOP_KEYCLOAK_ADMIN, admin)
    PEERLOOP_OIDC_ADMIN_PASSWORD    (default PEERLOOP_KEYCLOAK_ADMIN_PASSWORD, peerloop-admin)
    PEERLOOP_OIDC_CLI_CLIENT_ID     public client with direct access grants (peerloop-cli)
    PEERLOOP_OIDC_DEMO_PASSWORD     every demo person's password (peerloop-demo)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from peerloop_cli.infra import keycloak
from peerloop_cli.realm import ADMIN_GROUP, AUDIENCE, CLI_CLIENT, DEMO_PASSWORD, SERVICE_ACCOUNTS

__all__ = [
    "DEMO_PASSWORD",
    "SERVICES",
    "BearerAuth",
    "IdentityError",
    "IdentityProvider",
    "Tokens",
    "jwt_claims",
    "jwt_header",
    "service_token_for",
    "token_for",
]

# `peerloop token --service NAME`: the demo realm's service accounts and their demo secrets.
SERVICES: dict[str, tuple[str, str, str]] = {
    client_id.removeprefix("peerloop-"): (client_id, secret, scope)
    for client_id, (secret, scope) in SERVICE_ACCOUNTS.items()
}
_KEY_PROVIDER_TYPE = "org.keycloak.keys.KeyProvider"


class IdentityError(RuntimeError):
    """The provider refused or could not be reached; the message says what it answered."""


@dataclass(frozen=True)
class IdentityProvider:
    issuer: str
    admin_user: str
    admin_password: str
    cli_client_id: str = CLI_CLIENT
    demo_password: str = DEMO_PASSWORD
    audience: str = AUDIENCE

    @classmethod
    def from_env(cls) -> IdentityProvider:
        local = keycloak.KeycloakSettings.from_env()
        env = os.environ.get
        return cls(
            issuer=(env("PEERLOOP_OIDC_ISSUER", "").strip() or local.issuer).rstrip("/"),
            admin_user=env("PEERLOOP_OIDC_ADMIN_USER", "").strip() or local.admin_user,
            admin_password=env("PEERLOOP_OIDC_ADMIN_PASSWORD", "") or local.admin_password,
            cli_client_id=env("PEERLOOP_OIDC_CLI_CLIENT_ID", "").strip() or CLI_CLIENT,
            demo_password=env("PEERLOOP_OIDC_DEMO_PASSWORD", "") or DEMO_PASSWORD,
        )

    @property
    def base_url(self) -> str:
        """The server's root: the issuer without `/realms/<realm>` (Keycloak's layout)."""
        return self.issuer.rsplit("/realms/", 1)[0]

    @property
    def realm(self) -> str:
        return self.issuer.rsplit("/realms/", 1)[-1]

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def admin_api(self) -> str:
        return f"{self.base_url}/admin/realms/{self.realm}"


class BearerAuth(httpx.Auth):
    """Puts a fresh bearer token on each request; the token source caches and renews."""

    def __init__(self, token: Callable[[], Awaitable[str]]) -> None:
        self._token = token

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise TypeError("BearerAuth gets its tokens asynchronously: use httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {await self._token()}"
        yield request


@dataclass
class _Cached:
    token: str
    renew_at: float  # time.monotonic()


class Tokens:
    """Access tokens per subject, cached until shortly before they expire.

    One instance per event loop (it holds an httpx client). Concurrent requests
    for one subject share one grant.
    """

    def __init__(
        self,
        provider: IdentityProvider,
        *,
        client: httpx.AsyncClient | None = None,
        renew_before_s: float = 60.0,
    ) -> None:
        self.provider = provider
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._owns_client = client is None
        self._renew_before_s = renew_before_s
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self._registered: set[str] = set()

    async def __aenter__(self) -> Tokens:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def forget(self) -> None:
        """Drop every cached token, so the next call gets a fresh one."""
        self._cache.clear()

    # ----------------------------------------------------------------- tokens

    async def for_person(self, person_or_email: str) -> str:
        """An access token for a person, by id (username) or e-mail; password grant."""
        return await self._cached(
            ("person", person_or_email),
            lambda: self._grant(
                self.provider.token_endpoint,
                {
                    "grant_type": "password",
                    "client_id": self.provider.cli_client_id,
                    "username": person_or_email,
                    "password": self.provider.demo_password,
                    "scope": "openid",
                },
                f"person {person_or_email!r}",
            ),
        )

    async def auth_header(self, person_or_email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.for_person(person_or_email)}"}

    async def service_account(self, client_id: str, client_secret: str, scope: str) -> str:
        """An access token for a confidential client's service account; client credentials."""
        return await self._cached(
            # The secret is part of the key: a wrong one must not get a cached token.
            ("service", client_id, hashlib.sha256(client_secret.encode()).hexdigest(), scope),
            lambda: self._grant(
                self.provider.token_endpoint,
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "scope": scope,
                },
                f"service account {client_id!r}",
            ),
        )

    def as_person(self, person_id: str, *, register: bool = True) -> BearerAuth:
        """httpx auth acting as `person_id` (`client.get(url, auth=tokens.as_person("p-1"))`).

        With `register`, a person the provider does not know yet is registered on first
        use (as HR provisioning would), so tests and the demo can invent people.
        """

        async def token() -> str:
            if register and person_id not in self._registered:
                await self.ensure_person(
                    person_id, email=f"{person_id}@example.com", name=f"Person {person_id}"
                )
                self._registered.add(person_id)
            return await self.for_person(person_id)

        return BearerAuth(token)

    def as_service(self, client_id: str, client_secret: str, scope: str) -> BearerAuth:
        return BearerAuth(lambda: self.service_account(client_id, client_secret, scope))

    async def for_new_person(self, person_id: str, *, email: str, name: str) -> str:
        await self.ensure_person(person_id, email=email, name=name)
        return await self.for_person(person_id)

    # ----------------------------------------------------------------- admin API

    async def ensure_person(
        self, person_id: str, *, email: str, name: str, admin: bool = False
    ) -> None:
        """Register a person (username = person id) with the demo password, if not there yet.

        Idempotent, and safe when two callers race: a conflict means it exists. With
        admin=True the person is (also) put into the admins group; an existing
        person's other details are left as they are.
        """
        user_id = await self._user_id(person_id)
        if user_id is None:
            first, _, last = name.strip().partition(" ")
            response = await self._admin(
                "POST",
                "/users",
                body={
                    "username": person_id,
                    "email": email,
                    "emailVerified": True,
                    "firstName": first or person_id,
                    "lastName": last or first or person_id,
                    "enabled": True,
                    "credentials": [
                        {
                            "type": "password",
                            "value": self.provider.demo_password,
                            "temporary": False,
                        }
                    ],
                },
                ok=(201, 409),
            )
            if response.status_code == 409 and await self._user_id(person_id) is None:
                raise IdentityError(
                    f"could not register {person_id!r}: {response.text} "
                    f"(is {email!r} taken by someone else?)"
                )
            user_id = await self._user_id(person_id)
            if user_id is None:
                raise IdentityError(f"{person_id!r} was registered but cannot be found")
        if admin:
            group_id = await self._group_id(ADMIN_GROUP)
            await self._admin("PUT", f"/users/{user_id}/groups/{group_id}", ok=(204,))
        self._cache.pop(("person", person_id), None)
        self._cache.pop(("person", email), None)

    async def rotate_signing_key(self) -> str:
        """Add an RS256 key that outranks every other, so new tokens are signed with it.

        The old keys stay (tokens signed with them still verify). Returns the new
        key's `kid`; cached tokens are dropped, so the next ones carry it.
        """
        keys = (await self._admin("GET", "/keys")).json()
        top = max(
            (
                int(key.get("providerPriority", 0))
                for key in keys.get("keys", [])
                if key.get("type") == "RSA"
            ),
            default=0,
        )
        realm_id = (await self._admin("GET", "")).json()["id"]
        name = f"peerloop-rotated-{time.time_ns()}"
        response = await self._admin(
            "POST",
            "/components",
            body={
                "name": name,
                "providerId": "rsa-generated",
                "providerType": _KEY_PROVIDER_TYPE,
                "parentId": realm_id,
                "config": {
                    "priority": [str(top + 1)],
                    "enabled": ["true"],
                    "active": ["true"],
                    "algorithm": ["RS256"],
                    "keySize": ["2048"],
                },
            },
            ok=(201,),
        )
        component_id = response.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
        keys = (await self._admin("GET", "/keys")).json()
        for key in keys.get("keys", []):
            if key.get("providerId") == component_id and key.get("algorithm") == "RS256":
                self.forget()
                return str(key["kid"])
        raise IdentityError(f"the new key provider {name} ({component_id}) has no RS256 key")

    async def jwks(self) -> dict[str, Any]:
        response = await self._client.get(self.provider.jwks_uri)
        if response.status_code != 200:
            raise IdentityError(f"GET {self.provider.jwks_uri}: {response.status_code}")
        result: dict[str, Any] = response.json()
        return result

    async def _admin_token(self) -> str:
        return await self._cached(
            ("admin",),
            lambda: self._grant(
                f"{self.provider.base_url}/realms/master/protocol/openid-connect/token",
                {
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": self.provider.admin_user,
                    "password": self.provider.admin_password,
                },
                "the master realm's admin",
            ),
        )

    async def _admin(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        url = f"{self.provider.admin_api}{path}"
        headers = {"Authorization": f"Bearer {await self._admin_token()}"}
        try:
            response = await self._client.request(
                method, url, json=body, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise IdentityError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in ok:
            raise IdentityError(f"{method} {url}: {response.status_code} {response.text[:500]}")
        return response

    async def _user_id(self, username: str) -> str | None:
        found = (
            await self._admin("GET", "/users", params={"username": username, "exact": "true"})
        ).json()
        return str(found[0]["id"]) if found else None

    async def _group_id(self, name: str) -> str:
        found = (
            await self._admin("GET", "/groups", params={"search": name, "exact": "true"})
        ).json()
        for group in found:
            if group.get("name") == name:
                return str(group["id"])
        raise IdentityError(f"the realm {self.provider.realm!r} has no group {name!r}")

    # ----------------------------------------------------------------- plumbing

    async def _cached(
        self, key: tuple[str, ...], fetch: Callable[[], Awaitable[tuple[str, float]]]
    ) -> str:
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached.renew_at:
            return cached.token
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() < cached.renew_at:
                return cached.token
            token, lifetime = await fetch()
            margin = min(self._renew_before_s, lifetime / 2)
            self._cache[key] = _Cached(token, time.monotonic() + lifetime - margin)
            return token

    async def _grant(self, url: str, form: dict[str, str], who: str) -> tuple[str, float]:
        try:
            response = await self._client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise IdentityError(
                f"could not reach the identity provider at {url} ({type(exc).__name__}: {exc}); "
                "is it running (`peerloop infra up`)?"
            ) from exc
        if response.status_code != 200:
            try:
                body = response.json()
                reason = f"{body.get('error')}: {body.get('error_description', '')}"
            except ValueError:
                reason = response.text[:300]
            raise IdentityError(f"no token for {who} from {url}: {response.status_code} {reason}")
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 60))


# --------------------------------------------------------------------------- sync helpers


def token_for(person_or_email: str, provider: IdentityProvider | None = None) -> str:
    """An access token for a person, for synchronous callers (the CLI)."""

    async def go() -> str:
        async with Tokens(provider or IdentityProvider.from_env()) as tokens:
            return await tokens.for_person(person_or_email)

    return asyncio.run(go())


def service_token_for(service: str, provider: IdentityProvider | None = None) -> str:
    """An access token for a demo service account by short name: `hr` or `insights`."""
    try:
        client_id, secret, scope = SERVICES[service]
    except KeyError:
        raise IdentityError(
            f"no service account {service!r}; there are: {', '.join(sorted(SERVICES))}"
        ) from None

    async def go() -> str:
        async with Tokens(provider or IdentityProvider.from_env()) as tokens:
            return await tokens.service_account(client_id, secret, scope)

    return asyncio.run(go())


def _b64_json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return result


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, NOT verified: for printing and tests, never for trusting."""
    return _b64_json(token.split(".")[1])


def jwt_header(token: str) -> dict[str, Any]:
    """A JWT's header (alg, kid), not verified."""
    return _b64_json(token.split(".")[0])
