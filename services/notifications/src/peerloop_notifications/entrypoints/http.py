"""HTTP API of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI
from peerloop_contracts.runtime.service import ServiceRuntime

from peerloop_notifications.config import Settings


def build_runtime(settings: Settings) -> ServiceRuntime:
    return ServiceRuntime(name="notifications", settings=settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime(settings or Settings())
    app = FastAPI(title="Peerloop notifications", version="0.1.0", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(runtime.health_router())
    return app
