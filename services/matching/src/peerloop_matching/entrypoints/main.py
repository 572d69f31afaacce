"""Process entry point: `peerloop-matching` serves HTTP and consumes Kafka in one process."""

from __future__ import annotations

from peerloop_runtime.serve import serve

from peerloop_matching.config import Settings
from peerloop_matching.entrypoints.http import create_app


def run() -> None:
    serve("matching", Settings(), create_app)


if __name__ == "__main__":
    run()
