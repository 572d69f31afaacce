"""Slack: requests verified with the app's signing secret, messages as Block Kit through the
Web API. Both are the official `slack_sdk`'s: its `SignatureVerifier` (HMAC-SHA256 of
`v0:<timestamp>:<body>`, five-minute window), its Block Kit models (which refuse what
Slack's documented limits refuse) and its `WebClient` for `chat.postMessage`/`chat.update`.

A Teams adapter would be a second module like this one: its own request check, its own
card format for `Message`, its own `ChatPlatform`; nothing in `application/` changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.signature import Clock, SignatureVerifier

from peerloop_chat.application.ports import ChatAccount, Posted, Seen
from peerloop_chat.domain.messages import Message

PLATFORM = "slack"
SIGNATURE_WINDOW = timedelta(minutes=5)
"""Slack's own window (and slack_sdk's): an older timestamp is a stale request."""
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
MESSAGE_SHORTCUT = "ask_peerloop"
"""The callback id of the message shortcut "Ask Peerloop about this" in the app manifest."""


class NotFromSlackError(Exception):
    """The request is not one Slack signed just now (or it was seen already)."""


class SlackUnavailableError(Exception):
    """Slack's Web API could not be reached, failed or asked to slow down: a retry may work."""


class SlackRefusedError(Exception):
    """Slack refused the call for good (a wrong token, a channel gone): no retry helps."""


class SlackRequests:
    """Verifies that a request is Slack's, recent, and not a replay of one seen before."""

    def __init__(
        self, signing_secret: str, seen: Seen, *, clock: Callable[[], float] = time.time
    ) -> None:
        class _Clock(Clock):
            def now(self) -> float:
                return clock()

        self._verifier = SignatureVerifier(signing_secret, clock=_Clock())
        self._seen = seen
        self._clock = clock

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        timestamp = headers.get("x-slack-request-timestamp")
        signature = headers.get("x-slack-signature")
        if not timestamp or not signature:
            raise NotFromSlackError("the request carries no Slack signature")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise NotFromSlackError("the Slack request timestamp is not a time")
        if not self._verifier.is_valid(body, timestamp, signature):
            raise NotFromSlackError(
                "the Slack signature does not verify, or the request is older than 5 minutes"
            )
        # The same signed request twice is a replay: Slack signs each delivery anew.
        until = datetime.fromtimestamp(int(timestamp), UTC) + 2 * SIGNATURE_WINDOW
        if not await self._seen.first_time(f"slack-signature:{signature}", until):
            raise NotFromSlackError("this Slack request was received before (a replay)")


def _escape(text: str) -> str:
    # Slack's mrkdwn: these three are control characters; everything else is shown as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks_for(message: Message) -> list[Block]:
    """The Block Kit layout of a message, within Slack's documented limits."""
    blocks: list[Block] = [HeaderBlock(text=_cut(message.title, HEADER_LIMIT))]
    if message.quoted:
        quoted = "\n".join(
            "> " + _escape(line) for part in message.quoted for line in part.split("\n")
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut(quoted, SECTION_LIMIT))))
    if message.lines:
        text = "\n".join(_escape(line) for line in message.lines)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut(text, SECTION_LIMIT))))
    if message.buttons:
        blocks.append(
            ActionsBlock(
                block_id="peerloop-actions",
                elements=[
                    ButtonElement(
                        text=button.label,
                        # Unique within the block; the action is the part before ":".
                        action_id=f"{button.action.value}:{index}",
                        value=button.target.encode(),
                        style=button.style,
                    )
                    for index, button in enumerate(message.buttons)
                ],
            )
        )
    if message.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_escape(message.note))]))
    return blocks


def payload_for(message: Message) -> dict[str, Any]:
    """`text` (notifications, screen readers) and `blocks`, as Slack's APIs take them."""
    return {"text": message.summary, "blocks": [b.to_dict() for b in blocks_for(message)]}


def account(team_id: str, user_id: str) -> ChatAccount:
    return ChatAccount(PLATFORM, team_id, user_id)


@dataclass(frozen=True)
class Pressed:
    account: ChatAccount
    action: str
    value: str
    posted: Posted | None


@dataclass(frozen=True)
class Shortcut:
    account: ChatAccount
    text: str
    trigger_id: str


def _str(data: Any, *path: str) -> str:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    if not isinstance(data, str) or not data:
        raise ValueError(f"the payload lacks {'.'.join(path)}")
    return data


def read_interaction(payload: Any) -> Pressed | Shortcut | None:
    """A button press or the message shortcut; None for what this app does not handle."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise ValueError("the payload lacks actions")
        pressed = actions[0]
        posted = None
        container = payload.get("container")
        if isinstance(container, dict) and container.get("message_ts"):
            posted = Posted(_str(container, "channel_id"), _str(container, "message_ts"))
        return Pressed(
            account=account(_str(payload, "team", "id"), _str(payload, "user", "id")),
            action=_str(pressed, "action_id").partition(":")[0],
            value=_str(pressed, "value"),
            posted=posted,
        )
    if kind == "message_action" and payload.get("callback_id") == MESSAGE_SHORTCUT:
        return Shortcut(
            account=account(_str(payload, "team", "id"), _str(payload, "user", "id")),
            text=_str(payload, "message", "text"),
            trigger_id=_str(payload, "trigger_id"),
        )
    return None


class SlackPlatform:
    """`ChatPlatform` over Slack's Web API at `base_url` (https://slack.com/api/ in production)."""

    name = PLATFORM

    def __init__(self, token: str, base_url: str, *, timeout_seconds: float = 10.0) -> None:
        base = base_url if base_url.endswith("/") else base_url + "/"
        self._client = WebClient(token=token, base_url=base, timeout=int(timeout_seconds))

    async def send(self, account: ChatAccount, message: Message) -> Posted:
        # A user id as channel: the app's direct-message conversation with that person.
        answer = await self._call(
            self._client.chat_postMessage, channel=account.user, **payload_for(message)
        )
        return Posted(str(answer["channel"]), str(answer["ts"]))

    async def replace(self, posted: Posted, message: Message) -> None:
        await self._call(
            self._client.chat_update, channel=posted.channel, ts=posted.ts, **payload_for(message)
        )

    async def _call(self, method: Callable[..., Any], **arguments: Any) -> Mapping[str, Any]:
        try:
            # WebClient is synchronous (the asynchronous one needs aiohttp): a worker thread.
            answer = await asyncio.to_thread(method, **arguments)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown"))
            if exc.response.status_code >= 500 or error == "ratelimited":
                raise SlackUnavailableError(f"Slack is unavailable: {error}") from exc
            raise SlackRefusedError(f"Slack refused: {error}") from exc
        except (SlackClientError, OSError) as exc:
            raise SlackUnavailableError(
                f"Slack could not be reached: {type(exc).__name__}"
            ) from exc
        return dict(answer.data) if isinstance(answer.data, dict) else {}
