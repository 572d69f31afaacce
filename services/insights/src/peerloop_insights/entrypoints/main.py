"""Process entry point: `peerloop-insights` serves HTTP and consumes Kafka in one process."""

from __future__ import annotations

from peerloop_runtime.serve import serve

from peerloop_insights.config import Settings
from peerloop_insights.entrypoints.http import create_app


def run() -> None:
    serve("insights", Settings(), create_app)


if __name__ == "__main__":
    run()
