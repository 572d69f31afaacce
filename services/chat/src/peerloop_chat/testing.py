"""Slack's side, for tests: requests signed as Slack signs them, and a local HTTP server
that plays Slack's Web API.

`signed_headers(body, secret)` signs with slack_sdk's own `SignatureVerifier`, so a test
request is byte for byte what Slack would send. `SlackStandIn` records every Web API call
the chat service makes (`chat.postMessage`, `chat.update`, …) and answers `ok` as Slack
does: Slack's cloud cannot run in a test, so the service under test is pointed at it with
PEERLOOP_SLACK_API_URL. Nothing here is used outside tests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(body: str, secret: str, *, at: float | None = None) -> dict[str, str]:
    """The headers Slack sends: X-Slack-Request-Timestamp and X-Slack-Signature (v0)."""
    timestamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    if signature is None:
        raise ValueError("no signature without a timestamp")
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(text: str, *, team: str, user: str, trigger: str) -> str:
    """A slash command's form body, with the fields Slack sends."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team,
            "team_domain": "peerloop-test",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": user,
            "user_name": "someone",
            "command": "/peerloop",
            "text": text,
            "api_app_id": "A1",
            "response_url": "https://hooks.slack.com/commands/T1/1/x",
            "trigger_id": trigger,
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """An interactivity request's form body: the payload as JSON in `payload`."""
    return urlencode({"payload": json.dumps(payload)})


def button_payload(
    action_id: str,
    value: str,
    *,
    user: str,
    team: str,
    channel: str = "D1",
    message_ts: str = "1700000000.0001",
) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it when a button is pressed."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "peerloop-test"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A1",
        "trigger_id": "tr-b",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel},
        "actions": [
            {
                "type": "button",
                "block_id": "peerloop-actions",
                "action_id": action_id,
                "value": value,
                "action_ts": "1700000001.0002",
            }
        ],
    }


@dataclass(frozen=True)
class ApiCall:
    method: str
    body: dict[str, Any]
    authorization: str


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                with standin._lock:
                    standin.calls.append(
                        ApiCall(method, body, self.headers.get("Authorization", ""))
                    )
                answer = {
                    "ok": True,
                    "channel": body.get("channel", "D0"),
                    "ts": f"{time.time():.6f}",
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def __enter__(self) -> SlackStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def posted_to(self, user: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c.body
                for c in self.calls
                if c.method == "chat.postMessage" and c.body.get("channel") == user
            ]

    def updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.body for c in self.calls if c.method == "chat.update"]
