"""Who is calling, read from a verified token's claims by rules from `AuthSettings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peerloop_runtime.auth.settings import AuthSettings


@dataclass(frozen=True, slots=True)
class Principal:
    """A person (`person_id` set) or a service account (`person_id` None), never both."""

    subject: str
    """The token's `sub`: unique per issuer, but not the Peerloop person id."""
    person_id: str | None
    is_admin: bool
    scopes: frozenset[str]
    client_id: str | None
    """The OAuth client the token was issued to (`azp`, else RFC 9068's `client_id`)."""
    delegated_by: str | None = None
    """The service account acting for `person_id` (auth.delegation); None: their own token."""

    @property
    def is_service_account(self) -> bool:
        return self.person_id is None


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """`name` itself, else a dotted path into nested objects (`realm_access.roles`).

    The exact name comes first because namespaced claims contain dots
    (`https://peerloop.example/groups`).
    """
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> frozenset[str]:
    """A space-separated string (RFC 8693 `scope`) or a list of strings (Okta's `scp`)."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(v for v in value if isinstance(v, str) and v)
    return frozenset()


def _is_service_account(claims: Mapping[str, Any], marker: str | None) -> bool:
    if marker is None:
        return False
    name, has_value, expected = marker.partition("=")
    value = claim(claims, name.strip())
    if not has_value:
        return value is not None
    return isinstance(value, str | int | bool) and str(value) == expected.strip()


def principal_from_claims(claims: Mapping[str, Any], settings: AuthSettings) -> Principal:
    """The caller of a token whose signature and registered claims were already checked."""
    person = claim(claims, settings.person_claim)
    if (
        not isinstance(person, str)
        or not person
        or _is_service_account(claims, settings.service_account_marker)
    ):
        person = None
    client = claims.get("azp") or claims.get("client_id")
    return Principal(
        subject=str(claims["sub"]),
        person_id=person,
        is_admin=settings.admin_group in _strings(claim(claims, settings.groups_claim)),
        scopes=_strings(claim(claims, settings.scope_claim)),
        client_id=client if isinstance(client, str) else None,
    )
