"""Process entry point: `peerloop-notifications` serves HTTP and consumes Kafka in one process."""

from __future__ import annotations

from peerloop_runtime.serve import serve

from peerloop_notifications.config import Settings
from peerloop_notifications.entrypoints.http import create_app


def run() -> None:
    serve("notifications", Settings(), create_app)


if __name__ == "__main__":
    run()
