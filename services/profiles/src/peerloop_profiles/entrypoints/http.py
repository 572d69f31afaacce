"""The profiles service as one ASGI app: HTTP API, `session-completed` consumer, outbox relay."""

from __future__ import annotations

from fastapi import FastAPI, status
from peerloop_runtime.auth import mark_public
from peerloop_runtime.http_errors import Answer, Refusals, field_error, install_refusals
from starlette.types import ASGIApp

from peerloop_profiles.application.errors import (
    AlreadyRegistered,
    NotTaughtBy,
    PersonNotFound,
    SelfEndorsement,
    SkillChanged,
    SkillNameTaken,
    SkillNotDefined,
    VersionConflict,
)
from peerloop_profiles.bootstrap import ProfilesService, bootstrap
from peerloop_profiles.config import Settings
from peerloop_profiles.domain.errors import (
    GoalNotSet,
    PersonErased,
    RuleViolation,
    SelfTaughtSession,
    SkillNotOffered,
)
from peerloop_profiles.entrypoints.api import router
from peerloop_profiles.entrypoints.evidence_api import router as evidence_router
from peerloop_profiles.entrypoints.scim.app import ScimApp
from peerloop_profiles.entrypoints.skills_api import router as skills_router

REFUSALS: Refusals = {
    RuleViolation: Answer(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=lambda exc: field_error(["body", exc.field], exc.message, "value_error"),
    ),
    PersonNotFound: status.HTTP_404_NOT_FOUND,
    SkillNotOffered: status.HTTP_404_NOT_FOUND,
    GoalNotSet: status.HTTP_404_NOT_FOUND,
    AlreadyRegistered: status.HTTP_409_CONFLICT,
    VersionConflict: status.HTTP_409_CONFLICT,
    PersonErased: status.HTTP_409_CONFLICT,
    SelfTaughtSession: status.HTTP_409_CONFLICT,
    NotTaughtBy: status.HTTP_403_FORBIDDEN,
    SelfEndorsement: status.HTTP_409_CONFLICT,
    SkillNotDefined: status.HTTP_404_NOT_FOUND,
    SkillChanged: status.HTTP_409_CONFLICT,
    SkillNameTaken: status.HTTP_409_CONFLICT,
}


def create_app(settings: Settings | None = None, service: ProfilesService | None = None) -> FastAPI:
    service = service or bootstrap(settings)
    runtime = service.runtime
    app = FastAPI(
        title="Peerloop profiles",
        version="0.1.0",
        description="People, the skills they offer, their learning goals and availability. "
        "Every change is published as a `peerloop.<event>.v1` Kafka event keyed by person id.",
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    app.state.service = service
    runtime.instrument(app)
    verifier = runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(router)
    app.include_router(evidence_router)
    app.include_router(skills_router)
    install_refusals(app, REFUSALS)
    # SCIM answers its own errors and checks its own tokens (scope scim:provision).
    # scim2-server types the ASGI scope as a dict, Starlette as a MutableMapping: same thing.
    scim: ASGIApp = ScimApp(service.provisioning, verifier)  # type: ignore[assignment]
    app.mount("/scim", scim)
    mark_public(app, "/scim")
    return app
