"""A front end without the person's token acting for a person it has identified itself.

A chat app learns who is typing from the chat platform (a signed request from a linked
account), not from the identity provider, so it holds no token of that person. It calls
with its own client-credentials token and names the person in `Peerloop-Acting-For`.
A service accepts that only when it was configured to (`AuthSettings.delegation_scope`)
and only from a service account whose token carries that scope, which the identity
provider grants to the chat client alone. The caller then becomes that person with
nothing more: never an admin, no scopes (a provisioning scope does not carry over), and
`delegated_by` names the client so logs and rules can tell. Every other combination is
refused: a person's token naming someone (that is impersonation), or a service account
without the scope, or a service that accepts no delegation.
"""

from __future__ import annotations

import re

from peerloop_runtime.auth.errors import Forbidden
from peerloop_runtime.auth.principal import Principal
from peerloop_runtime.auth.settings import AuthSettings

ACTING_FOR_HEADER = "Peerloop-Acting-For"
# The person id's own shape (peerloop_contracts.common.PersonId).
_PERSON_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

NOT_ACCEPTED = f"this service accepts no {ACTING_FOR_HEADER} header"
PERSON_CANNOT = "a person acts only in their own name"
NEEDS_SCOPE = "acting for a person needs the scope {scope!r}"
BAD_ID = f"{ACTING_FOR_HEADER} must be a person id (letters, digits, _ . : -, at most 64)"


def acting_principal(
    caller: Principal, acting_for: str | None, settings: AuthSettings
) -> Principal:
    """`caller` itself without the header; the person it names when delegation is allowed."""
    if acting_for is None:
        return caller
    scope = settings.delegation_scope
    if scope is None:
        raise Forbidden(NOT_ACCEPTED)
    if not caller.is_service_account:
        raise Forbidden(PERSON_CANNOT)
    if scope not in caller.scopes:
        raise Forbidden(NEEDS_SCOPE.format(scope=scope))
    if not _PERSON_ID.match(acting_for):
        raise Forbidden(BAD_ID)
    return Principal(
        subject=caller.subject,
        person_id=acting_for,
        is_admin=False,
        scopes=frozenset(),
        client_id=caller.client_id,
        delegated_by=caller.client_id or caller.subject,
    )
