"""Process entry point: `peerloop-profiles` serves HTTP and consumes Kafka in one process."""

from __future__ import annotations

from peerloop_runtime.serve import serve

from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app


def run() -> None:
    serve("profiles", Settings(), create_app)


if __name__ == "__main__":
    run()
