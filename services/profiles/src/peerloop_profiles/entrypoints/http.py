"""HTTP API of the profiles service."""

from __future__ import annotations

from fastapi import FastAPI
from peerloop_contracts.runtime.service import ServiceRuntime

from peerloop_profiles.config import Settings


def build_runtime(settings: Settings) -> ServiceRuntime:
    return ServiceRuntime(name="profiles", settings=settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime(settings or Settings())
    app = FastAPI(title="Peerloop profiles", version="0.1.0", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(runtime.health_router())
    return app
