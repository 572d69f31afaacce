"""The SCIM endpoints as one ASGI app, mounted at `/scim` (base URL `…/scim/v2`).

Every request but `/ServiceProviderConfig` (RFC 7643 §5) needs a bearer token from the
organisation's identity provider carrying the scope `scim:provision`; people's tokens,
and service accounts without the scope, get 403. Refusals of the profiles domain become
SCIM errors (RFC 7644 §3.12) like the protocol's own, so nothing answers 500 but a bug.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from peerloop_runtime.auth import (
    Forbidden,
    IdentityProviderUnavailable,
    TokenVerifier,
    Unauthenticated,
)
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS
from scim2_models import (
    ConflictException,
    Error,
    ForbiddenException,
    InvalidValueException,
    MutabilityException,
    PatchOp,
    ResourceType,
    SCIMException,
    UnauthorizedException,
)
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

from peerloop_profiles.application.errors import VersionConflict
from peerloop_profiles.application.provisioning import Provisioning
from peerloop_profiles.domain.errors import PersonErased, RuleViolation
from peerloop_profiles.entrypoints.scim.provider import ENTERPRISE_SCHEMA, provider
from peerloop_profiles.entrypoints.scim.storage import ProvisioningStorage

SCIM_SCOPE = "scim:provision"
"""The identity system's provisioning client: creates, changes and deletes users and teams."""
MANAGER_PATH = f"{ENTERPRISE_SCHEMA}:manager".lower()
SCOPE_RULE = f"SCIM provisioning needs a service account with the scope {SCIM_SCOPE}"

log = logging.getLogger("peerloop.profiles.scim")


class PeerloopScimService(ScimService):
    """RFC 7644, plus the one deviation of Microsoft Entra ID that matters here."""

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> PatchOp[Any]:
        # Entra ID sends the enterprise manager as a bare id, not {"value": id}.
        request = self.decode_body(body, content_type)
        operations = request.get("Operations") if isinstance(request, dict) else None
        for operation in operations if isinstance(operations, list) else []:
            if (
                isinstance(operation, dict)
                and str(operation.get("path", "")).lower().endswith(MANAGER_PATH)
                and isinstance(operation.get("value"), str)
            ):
                operation["value"] = {"value": operation["value"]}
        return super().read_patch(resource_type, json.dumps(request).encode(), content_type)


class ScimApp(ASGIApplication):
    def __init__(self, provisioning: Provisioning, verifier: TokenVerifier | None) -> None:
        super().__init__(
            ProvisioningStorage(provisioning), provider(), PeerloopScimService(provider())
        )
        self.verifier = verifier
        self.log = log

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        if self.needs_auth(request):
            await self._authenticate(request)
        return await self.handler.handle(request)

    async def _authenticate(self, request: ScimRequest) -> None:
        if self.verifier is None:
            raise ForbiddenException(detail="no identity provider is configured")
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedException(detail="a bearer token is required")
        try:
            principal = await self.verifier.verify(token.strip())
        except Unauthenticated as exc:
            raise UnauthorizedException(detail=exc.description) from exc
        if principal.person_id is not None or SCIM_SCOPE not in principal.scopes:
            raise ForbiddenException(detail=SCOPE_RULE)

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        # Outages are the identity system's cue to retry later (it does), not bugs.
        if isinstance(exception, IdentityProviderUnavailable):
            return _unavailable(exception.reason, exception.retry_after_seconds)
        if isinstance(exception, TRANSIENT_STORE_ERRORS):
            log.warning("%s %s: store unavailable: %s", request.method, request.url, exception)
            return _unavailable("the store is unavailable for a moment", 1)
        return super().handle_exception(request, _as_scim(exception))


def _unavailable(reason: str, retry_after_seconds: int) -> ScimResponse:
    body = Error(status=503, detail=f"{reason}; retry shortly").model_dump()
    headers = {"Retry-After": str(retry_after_seconds)}
    return ScimResponse(HTTPStatus.SERVICE_UNAVAILABLE, body, headers)


def _as_scim(exception: Exception) -> Exception:
    """The profiles domain's refusals in SCIM's words."""
    if isinstance(exception, SCIMException):
        return exception
    if isinstance(exception, RuleViolation):
        return InvalidValueException(detail=f"{exception.field}: {exception.message}")
    if isinstance(exception, PersonErased):
        return MutabilityException(detail=str(exception))
    if isinstance(exception, VersionConflict):
        return ConflictException(detail="the person changed meanwhile; retry")
    if isinstance(exception, Forbidden):
        return ForbiddenException(detail=exception.rule)
    return exception
