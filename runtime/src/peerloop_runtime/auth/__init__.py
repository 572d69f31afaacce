"""OpenID Connect bearer tokens for every Peerloop service (issue #20).

    from peerloop_runtime.auth import (
        AuthSettings, TokenVerifier, Principal, CurrentPrincipal, PublicRoute,
        Forbidden, require_person, require_scope, require_admin,
        install_auth, routes_without_access_rule,
    )

`settings` (env vars), `verifier` (what is checked), `principal` (claims → caller),
`fastapi_integration` (routes, answers, and the rules routes must follow),
`key_source`/`key_cache` (signing keys), `testing` (an in-memory issuer for tests).
See contracts/README.md, "Authentication".
"""

from peerloop_runtime.auth.errors import (
    Forbidden,
    IdentityProviderUnavailable,
    Unauthenticated,
)
from peerloop_runtime.auth.fastapi_integration import (
    CurrentPrincipal,
    PublicRoute,
    bearer_scheme,
    current_principal,
    install_auth,
    mark_public,
    public_route,
    require_admin,
    require_person,
    require_scope,
    routes_without_access_rule,
)
from peerloop_runtime.auth.key_source import (
    KeySource,
    KeySourceUnavailable,
    OidcKeySource,
)
from peerloop_runtime.auth.principal import Principal
from peerloop_runtime.auth.settings import AuthSettings
from peerloop_runtime.auth.verifier import TokenVerifier

__all__ = [
    "AuthSettings",
    "CurrentPrincipal",
    "Forbidden",
    "IdentityProviderUnavailable",
    "KeySource",
    "KeySourceUnavailable",
    "OidcKeySource",
    "Principal",
    "PublicRoute",
    "TokenVerifier",
    "Unauthenticated",
    "bearer_scheme",
    "current_principal",
    "install_auth",
    "mark_public",
    "public_route",
    "require_admin",
    "require_person",
    "require_scope",
    "routes_without_access_rule",
]
