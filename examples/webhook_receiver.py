"""Receive Peerloop's chat webhooks and refuse forged, altered, stale and replayed ones.

Nothing but the standard library. What a receiver must do (docs/webhooks.md):

- read the raw body before parsing it: the signature covers those exact bytes;
- `Peerloop-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`: compute
  HMAC-SHA256(key, "<t>." + body) with each key you hold and compare, in constant time,
  with each `v1` (two of them while Peerloop changes its key; you may hold two as well);
- refuse a `t` more than five minutes from your clock: a copy recorded earlier is dead;
- within those five minutes, refuse a `delivery_id` (in the signed body) seen before.
  Peerloop sends a delivery again after a failure with the same `delivery_id`, so answer
  a duplicate with 2xx-or-409 and do nothing twice.

    PEERLOOP_WEBHOOK_SECRETS=<key>[,<previous key>] python examples/webhook_receiver.py --port 8080

Seen ids live in memory here; a real receiver keeps them with its own data.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024


class RefusedError(Exception):
    """Why a request is not a genuine, fresh, first delivery."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def verify(
    secrets: Sequence[str], body: bytes, header: str | None, *, now: float | None = None
) -> int:
    """The signed timestamp, if `header` signs `body` with one of `secrets` and is fresh."""
    if not header:
        raise RefusedError("no Peerloop-Signature header")
    pairs = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t"]
    signatures = [value for key, _, value in pairs if key == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise RefusedError("malformed Peerloop-Signature header")
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise RefusedError("timestamp outside the tolerance: stale or replayed")
    signed = f"{timestamp}.".encode() + body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return timestamp
    raise RefusedError("signature does not match")


class SeenDeliveries:
    """Delivery ids seen within the tolerance; an older one is refused by its timestamp."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, delivery_id: str, now: float) -> bool:
        with self._lock:
            for old in [d for d, at in self._seen.items() if at < now - 2 * TOLERANCE_SECONDS]:
                del self._seen[old]
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            return True


def handler(
    secrets: Sequence[str], on_message: Callable[[dict[str, Any]], None]
) -> type[BaseHTTPRequestHandler]:
    seen = SeenDeliveries()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length > MAX_BODY_BYTES:
                    raise RefusedError("body too large", 413)
                body = self.rfile.read(length)
                verify(secrets, body, self.headers.get("Peerloop-Signature"))
                message = json.loads(body)
                if not seen.first_time(str(message["delivery_id"]), time.time()):
                    raise RefusedError("delivery seen before", 409)
            except RefusedError as refused:
                self._answer(refused.status, str(refused))
                return
            except (ValueError, KeyError, TypeError):
                self._answer(400, "not a Peerloop webhook body")
                return
            on_message(message)
            self._answer(204, "")

        def _answer(self, status: int, reason: str) -> None:
            data = reason.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Receiver


def server(
    secrets: Sequence[str],
    on_message: Callable[[dict[str, Any]], None],
    host: str = "127.0.0.1",
    port: int = 8080,
) -> ThreadingHTTPServer:
    if not secrets or not all(secrets):
        raise ValueError("at least one non-empty key")
    return ThreadingHTTPServer((host, port), handler(secrets, on_message))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    secrets = [s for s in os.environ.get("PEERLOOP_WEBHOOK_SECRETS", "").split(",") if s]
    with server(secrets, lambda m: print(m["delivery_id"], m["text"]), args.host, args.port) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
