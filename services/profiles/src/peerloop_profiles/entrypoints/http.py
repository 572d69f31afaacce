"""The profiles service as one ASGI app: HTTP API, `session-completed` consumer, outbox relay."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from peerloop_contracts.runtime.service import ServiceRuntime

from peerloop_profiles.adapters.mongo_people import COLLECTION, MongoPersonRepository
from peerloop_profiles.application.errors import (
    AlreadyRegistered,
    PersonNotFound,
    VersionConflict,
)
from peerloop_profiles.application.use_cases import ProfilesService
from peerloop_profiles.config import Settings
from peerloop_profiles.domain.errors import (
    GoalNotSet,
    PersonErased,
    RuleViolation,
    SelfTaughtSession,
    SkillNotOffered,
)
from peerloop_profiles.entrypoints.api import router
from peerloop_profiles.entrypoints.consumers import session_completed_consumer

_STATUS_OF: dict[type[Exception], int] = {
    PersonNotFound: status.HTTP_404_NOT_FOUND,
    SkillNotOffered: status.HTTP_404_NOT_FOUND,
    GoalNotSet: status.HTTP_404_NOT_FOUND,
    AlreadyRegistered: status.HTTP_409_CONFLICT,
    VersionConflict: status.HTTP_409_CONFLICT,
    PersonErased: status.HTTP_409_CONFLICT,
    SelfTaughtSession: status.HTTP_409_CONFLICT,
}


def build_runtime(settings: Settings) -> ServiceRuntime:
    return ServiceRuntime(name="profiles", settings=settings, outbox_collections=[COLLECTION])


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime(settings or Settings())
    people = MongoPersonRepository(runtime.collection(COLLECTION))
    service = ProfilesService(people, on_committed=runtime.relay.notify)
    session_completed_consumer(runtime, service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await people.ensure_indexes()
        async with runtime.lifespan(app):
            yield

    app = FastAPI(
        title="Peerloop profiles",
        version="0.1.0",
        description="People, the skills they offer, their learning goals and availability. "
        "Every change is published as a `peerloop.<event>.v1` Kafka event keyed by person id.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.service = service
    runtime.instrument(app)
    runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(router)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def rule_violation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RuleViolation)
        return JSONResponse(
            {"detail": [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        code = next(c for kind, c in _STATUS_OF.items() if isinstance(exc, kind))
        return JSONResponse({"detail": str(exc)}, status_code=code)

    app.add_exception_handler(RuleViolation, rule_violation)
    for kind in _STATUS_OF:
        app.add_exception_handler(kind, refused)
