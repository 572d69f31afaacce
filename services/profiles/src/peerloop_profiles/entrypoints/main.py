"""Process entry point: `peerloop-profiles` serves HTTP and consumes Kafka in one process."""

from __future__ import annotations

import uvicorn

from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app


def run() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


if __name__ == "__main__":
    run()
