"""An in-memory identity provider for tests: signing keys, a key source, and tokens.

    issuer = LocalIssuer()
    verifier = TokenVerifier(issuer.settings(), issuer.key_source)
    token = issuer.token(preferred_username="ada", groups=["peerloop-admins"])

It signs only with keys it generated itself; a verifier trusts them only when
handed this key source, so nothing here weakens a real deployment.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from joserfc import jws, jwt
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey

from peerloop_runtime.auth.key_source import JwksDocument, KeySourceUnavailable
from peerloop_runtime.auth.settings import AuthSettings

ISSUER = "https://idp.peerloop.test/realms/peerloop"
AUDIENCE = "peerloop-api"


def generate_key(alg: str) -> Key:
    """A fresh private key for `alg`, with a random `kid`."""
    kid = uuid.uuid4().hex[:12]
    if alg.startswith(("RS", "PS")):
        return RSAKey.generate_key(2048, {"kid": kid, "use": "sig", "alg": alg})
    curves = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
    if alg in curves:
        return ECKey.generate_key(curves[alg], {"kid": kid, "use": "sig", "alg": alg})
    if alg in ("EdDSA", "Ed25519"):
        return OKPKey.generate_key("Ed25519", {"kid": kid, "use": "sig", "alg": alg})
    raise ValueError(f"no test key for {alg}")


class FakeKeySource:
    """A `KeySource` serving the public halves of the keys it holds; `down` simulates an outage."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = list(keys)
        self.down = False
        self.fetches = 0

    async def fetch_jwks(self) -> JwksDocument:
        self.fetches += 1
        if self.down:
            raise KeySourceUnavailable("the identity provider is down (simulated)")
        return dict(KeySet(self.keys).as_dict(private=False))

    async def close(self) -> None:
        return None


class LocalIssuer:
    def __init__(
        self,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        alg: str = "RS256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.issuer = issuer
        self.audience = audience
        self.key = generate_key(alg)
        self.key_source = FakeKeySource([self.key])

    def settings(self, **overrides: Any) -> AuthSettings:
        return AuthSettings(**{"issuer": self.issuer, "audience": self.audience, **overrides})

    def rotate(self, alg: str | None = None) -> Key:
        """Publish a new key (old ones stay published) and sign with it from now on."""
        self.key = generate_key(alg or str(self.key.alg))
        self.key_source.keys.append(self.key)
        return self.key

    def claims(self, **claims: Any) -> dict[str, Any]:
        """Valid claims for five minutes from now; `None` values drop a claim."""
        now = int(self.clock())
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "azp": "peerloop-web",
        }
        base.update(claims)
        return {k: v for k, v in base.items() if v is not None}

    def token(
        self, *, header: dict[str, Any] | None = None, key: Key | None = None, **claims: Any
    ) -> str:
        signing_key = key or self.key
        protected = {"alg": signing_key.alg, "kid": signing_key.kid, **(header or {})}
        registry = jws.JWSRegistry(algorithms=[str(protected["alg"])], strict_check_header=False)
        return jwt.encode(protected, self.claims(**claims), signing_key, registry=registry)

    def person_token(self, person_id: str, **claims: Any) -> str:
        return self.token(**{"preferred_username": person_id, "scope": "openid profile", **claims})

    def service_token(self, client_id: str, scope: str = "", **claims: Any) -> str:
        """Shaped like Keycloak's client-credentials tokens: a username, and `client_id`."""
        return self.token(
            azp=client_id,
            client_id=client_id,
            preferred_username=f"service-account-{client_id}",
            scope=scope,
            **claims,
        )
