"""What can go wrong between a request and its principal, and the HTTP answer to each.

`install_auth` maps them: `Unauthenticated` → 401, `Forbidden` → 403,
`IdentityProviderUnavailable` → 503 with Retry-After.
"""

# ruff: noqa: N818 - each name states the answer (401, 403, 503); an "Error" suffix adds nothing

from __future__ import annotations

import re

REALM = "peerloop"

# RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_NOT_ALLOWED_IN_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class Unauthenticated(Exception):
    """No usable token: 401 with an RFC 6750 `WWW-Authenticate: Bearer` challenge.

    A request without a token gets the bare challenge (`Bearer realm="peerloop"`),
    as RFC 6750 §3.1 advises when the client did not try to authenticate; a token
    that does not verify gets `error="invalid_token"` and a description.
    """

    def __init__(self, description: str, *, token_present: bool = True) -> None:
        super().__init__(description)
        self.description = description
        self.token_present = token_present

    @property
    def challenge(self) -> str:
        if not self.token_present:
            return f'Bearer realm="{REALM}"'
        text = _NOT_ALLOWED_IN_DESCRIPTION.sub("?", self.description)
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="{text}"'


class Forbidden(Exception):
    """A valid caller that the route's rule excludes: 403 `{"detail": rule}`."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class IdentityProviderUnavailable(Exception):
    """No signing key to check the token with, because the provider cannot be reached.

    Not the caller's fault (so not 401) and not a bug (so not 500): 503, retry later.
    """

    def __init__(self, reason: str, *, retry_after_seconds: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = max(1, retry_after_seconds)
