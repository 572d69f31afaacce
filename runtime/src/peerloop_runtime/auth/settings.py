"""How a service validates bearer tokens: `PEERLOOP_AUTH__*` environment variables.

`AuthSettings` is nested in `ServiceSettings` as `auth`, so `PEERLOOP_AUTH__ISSUER`
sets `issuer`. Issuer and audience have no defaults on purpose: there is no mode
that accepts any token, so a service wired for authentication refuses to start
until both name a real identity provider and the audience its tokens carry.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

SUPPORTED_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
        "Ed448",
    }
)
"""Asymmetric signatures only: with HS* anyone holding the published key could sign."""

DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA", "Ed25519")


class AuthSettings(BaseModel):
    issuer: str = Field(
        min_length=1,
        description="the `iss` every token must carry, exactly (trailing slash included); "
        "its OIDC discovery document names the signing keys",
    )
    audience: str = Field(min_length=1, description="a value the token's `aud` must contain")
    person_claim: str = Field(
        default="preferred_username",
        min_length=1,
        description="the claim holding the caller's person id. `preferred_username` is an "
        "OIDC standard claim that Keycloak and Entra ID (v2.0) put in access tokens, and OIDC "
        "providers in ID tokens, with no configuration on the provider's side; the provider "
        "must not let people change it (Keycloak's default). Okta: `sub`.",
    )
    groups_claim: str = Field(
        default="groups", min_length=1, description="a list of group names (or a dotted path)"
    )
    admin_group: str = Field(
        default="peerloop-admins",
        min_length=1,
        description="membership makes the caller an admin; matched exactly "
        "(Keycloak's group mapper with full paths sends `/peerloop-admins`)",
    )
    scope_claim: str = Field(
        default="scope", min_length=1, description="space-separated string or list (Okta: `scp`)"
    )
    service_account_marker: str | None = Field(
        default="client_id",
        description="`claim` or `claim=value` that only client-credentials tokens carry; such a "
        "token is a service account even when it has a person claim. `client_id` is what "
        "Keycloak's service-account scope adds; Entra ID: `idtyp=app`; Auth0: "
        "`gty=client-credentials`. Empty: only the absence of the person claim decides.",
    )
    # NoDecode: the env value is split by `_split` below rather than read as JSON only.
    algorithms: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_ALGORITHMS, min_length=1, description="accepted `alg` values"
    )
    leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="clock skew tolerated on exp, nbf and iat"
    )
    jwks_cache_seconds: float = Field(
        default=300, gt=0, description="how long fetched signing keys are used before a re-fetch"
    )
    jwks_min_refresh_seconds: float = Field(
        default=10,
        ge=0,
        description="at most one key fetch per this many seconds, whatever tokens arrive "
        "(an unknown `kid` triggers one), so junk tokens cannot make us hammer the provider",
    )
    jwks_uri: str | None = Field(
        default=None, description="skip discovery and fetch the keys from here"
    )
    idp_timeout_seconds: float = Field(
        default=5, gt=0, description="per request to the identity provider"
    )
    delegation_scope: str | None = Field(
        default=None,
        description="a service account whose token has this scope may act for a person it "
        "names in the `Peerloop-Acting-For` header (as that person, never an admin, with no "
        "scopes; auth.delegation). Unset: no delegation is accepted",
    )
    open_docs: bool = Field(
        default=True,
        description="/docs, /openapi.json and /metrics without a token (false: any valid token)",
    )

    @field_validator("algorithms", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # `PEERLOOP_AUTH__ALGORITHMS=RS256,ES256` reads better than a JSON list; both work.
        if isinstance(value, str) and value.lstrip().startswith("["):
            return json.loads(value)
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = [alg for alg in value if alg not in SUPPORTED_ALGORITHMS]
        if refused:
            raise ValueError(
                f"not accepted: {', '.join(refused)}; choose among "
                f"{', '.join(sorted(SUPPORTED_ALGORITHMS))}"
            )
        return value

    @field_validator("service_account_marker", "delegation_scope")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def discovery_url(self) -> str:
        # OIDC Discovery 1.0 §4: drop a terminating "/" before appending the well-known path.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"
