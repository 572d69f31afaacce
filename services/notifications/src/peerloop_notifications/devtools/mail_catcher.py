"""A real local SMTP server that keeps every message it receives as an `.eml` file.

    python -m peerloop_notifications.devtools.mail_catcher --port 1025 --dir /tmp/mail

Tests start it in-process (`MailCatcher(...).start()`) and read the messages back.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import signal
import threading
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class _SaveToDirectory:
    directory: Path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook name
        content: bytes = envelope.original_content or envelope.content
        name = f"{uuid.uuid1().hex}.eml"
        partial = self.directory / f".{name}.part"
        # Written aside and renamed, so a reader never sees half a message.
        partial.write_bytes(content)
        partial.replace(self.directory / name)
        return "250 Message accepted for delivery"


@dataclass
class MailCatcher:
    directory: Path
    host: str = "127.0.0.1"
    port: int = 1025
    _controller: Controller | None = field(default=None, init=False, repr=False)

    def start(self) -> MailCatcher:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(
            _SaveToDirectory(self.directory), hostname=self.host, port=self.port
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        files = sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        parsed = []
        for path in files:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default=os.environ.get("PEERLOOP_MAIL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True, help="where .eml files are kept")
    args = parser.parse_args(argv)
    catcher = MailCatcher(args.dir, host=args.host, port=args.port).start()
    print(f"mail catcher listening on {args.host}:{args.port}, saving to {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        catcher.stop()


if __name__ == "__main__":
    main()
