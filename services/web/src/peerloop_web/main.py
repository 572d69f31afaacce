"""Process entry point: `peerloop-web` serves the web app with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from peerloop_web.app import create_app
from peerloop_web.settings import Settings


def run() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        # Open live streams would hold a shutdown for long; browsers reconnect by themselves.
        timeout_graceful_shutdown=3,
    )


if __name__ == "__main__":
    run()
