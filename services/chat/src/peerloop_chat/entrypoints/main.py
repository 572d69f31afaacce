"""Process entry point: `peerloop-chat` serves Slack's request URLs and consumes Kafka."""

from __future__ import annotations

from peerloop_runtime.serve import serve

from peerloop_chat.config import Settings
from peerloop_chat.entrypoints.http import create_app


def run() -> None:
    serve("chat", Settings(), create_app)


if __name__ == "__main__":
    run()
