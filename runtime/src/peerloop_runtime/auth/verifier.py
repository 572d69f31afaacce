"""Bearer token → `Principal`: signature, algorithm allow-list, then the registered claims.

All JOSE work is joserfc's; this module only decides what is acceptable.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from typing import Any

from joserfc import jws
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
)
from joserfc.jwt import JWTClaimsRegistry

from peerloop_runtime.auth.errors import Unauthenticated
from peerloop_runtime.auth.key_cache import SigningKeys
from peerloop_runtime.auth.key_source import KeySource, OidcKeySource
from peerloop_runtime.auth.principal import Principal, principal_from_claims
from peerloop_runtime.auth.settings import AuthSettings

# RFC 9864 deprecates the polymorphic "EdDSA" name, yet providers (Keycloak among them)
# still sign with it; it stays opt-out through the allow-list, not a warning per request.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

_CLAIM_PROBLEMS = {
    "iss": "the token was issued by another issuer",
    "aud": "the token is meant for another audience",
    "nbf": "the token is not valid yet",
    "iat": "the token was issued in the future",
    "exp": "the token's expiry is not a time",
    "sub": "the token's subject is not a string",
}


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience.

    `close()` (or `async with`) releases the HTTP client of the key source;
    `ServiceRuntime` does it in the service's lifespan.
    """

    def __init__(
        self,
        settings: AuthSettings,
        key_source: KeySource | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._source: KeySource = key_source or OidcKeySource(
            settings.issuer,
            discovery_url=settings.discovery_url,
            jwks_uri=settings.jwks_uri,
            timeout_seconds=settings.idp_timeout_seconds,
        )
        self.keys = SigningKeys(
            self._source,
            cache_seconds=settings.jwks_cache_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
            clock=monotonic,
        )
        self._algorithms = frozenset(settings.algorithms)
        # Not strict about header names: providers add harmless ones; `crit` is still enforced.
        self._registry = jws.JWSRegistry(
            algorithms=list(settings.algorithms), strict_check_header=False
        )
        self._claims = JWTClaimsRegistry(
            now=lambda: int(clock()),
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def __aenter__(self) -> TokenVerifier:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._source.close()

    async def verify(self, token: str) -> Principal:
        """The caller behind `token`; raises `Unauthenticated` or `IdentityProviderUnavailable`."""
        try:
            signed = jws.extract_compact(token.encode("ascii"), registry=self._registry)
            header = signed.headers()
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise Unauthenticated("the token is not a signed JWT") from None
        alg = header.get("alg")
        # Before any key lookup: `none`, HS* and the like never cost a fetch.
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise Unauthenticated(f"the token's algorithm {str(alg)[:20]!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("the token's kid is not a string")
        # Also before any key lookup (its unknown kid would cost a fetch): a token another
        # issuer signed. Nothing is trusted yet; the verified claims are checked again below.
        issuer = _unverified_issuer(signed.payload)
        if isinstance(issuer, str) and issuer != self.settings.issuer:
            raise Unauthenticated(_CLAIM_PROBLEMS["iss"])
        key = await self.keys.key_for(kid)
        try:
            # Also refuses a key of another type than `alg` needs, or one whose JWK
            # `alg`/`use` disagree with the header.
            valid = jws.validate_compact(signed, key, registry=self._registry)
        except JoseError:
            valid = False
        if not valid:
            raise Unauthenticated("the token's signature does not verify")
        claims = _claims(signed.payload)
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise Unauthenticated("the token has expired") from None
        except MissingClaimError as exc:
            raise Unauthenticated(f"the token lacks {exc.claim}") from None
        except ClaimError as exc:
            raise Unauthenticated(
                _CLAIM_PROBLEMS.get(exc.claim, f"the token's {exc.claim} is invalid")
            ) from None
        return principal_from_claims(claims, self.settings)


def _unverified_issuer(payload: bytes | None) -> object:
    try:
        claims = json.loads(payload or b"")
    except ValueError:
        return None
    return claims.get("iss") if isinstance(claims, dict) else None


def _claims(payload: bytes | None) -> dict[str, Any]:
    try:
        claims = json.loads(payload or b"")
    except ValueError:
        raise Unauthenticated("the token's claims are not JSON") from None
    if not isinstance(claims, dict):
        raise Unauthenticated("the token's claims are not a JSON object")
    return claims
