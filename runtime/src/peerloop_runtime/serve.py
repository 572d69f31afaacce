"""Run a service process: JSON logs, then uvicorn with the service's app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from peerloop_runtime.logs import configure_logging
from peerloop_runtime.settings import ServiceSettings
from peerloop_runtime.tracing import configure_tracing

S = TypeVar("S", bound=ServiceSettings)


def serve(service: str, settings: S, create_app: Callable[[S], FastAPI]) -> None:
    configure_logging(service, settings.log_level)
    configure_tracing(service)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        log_level=settings.log_level.lower(),
        # SIGTERM: stop accepting, let in-flight requests finish, then the lifespan
        # drains consumers, relay and producer within the same grace period.
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
