"""The chat service on in-memory stores, a recording chat platform and a fake Peerloop API,
plus Slack's own signing (slack_sdk) for requests built like Slack builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from peerloop_chat import testing
from peerloop_chat.adapters.memory_links import MemoryLinks, MemorySeen
from peerloop_chat.application.ports import (
    ApiRefusedError,
    Asked,
    ChatAccount,
    Posted,
    Reason,
    Why,
)
from peerloop_chat.bootstrap import ChatService, bootstrap
from peerloop_chat.config import Settings
from peerloop_chat.domain.messages import Message
from peerloop_chat.entrypoints.http import create_app
from peerloop_runtime.auth import TokenVerifier
from peerloop_runtime.auth.testing import LocalIssuer

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the example secret of Slack's documentation


@dataclass
class RecordingPlatform:
    name: str = "slack"
    sent: list[tuple[ChatAccount, Message]] = field(default_factory=list)
    replaced: list[tuple[Posted, Message]] = field(default_factory=list)
    failures: int = 0

    async def send(self, account: ChatAccount, message: Message) -> Posted:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the chat platform is down (simulated)")
        self.sent.append((account, message))
        return Posted(f"D-{account.user}", str(len(self.sent)))

    async def replace(self, posted: Posted, message: Message) -> None:
        self.replaced.append((posted, message))


@dataclass
class FakeApi:
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse: ApiRefusedError | None = None
    names: dict[str, str] = field(default_factory=dict)
    inferred_skill: str = "kubernetes"
    """What the fake's matching infers when an ask names no skill."""

    def _record(self, *call: Any) -> None:
        self.calls.append(call)
        if self.refuse is not None:
            raise self.refuse

    async def ask(
        self, person: str, *, skill: str | None, task: str, level: int, idempotency_key: str
    ) -> Asked:
        self._record("ask", person, skill, task, level, idempotency_key)
        # Matching infers a skill from the task when none is named; the fake reads one word.
        return Asked(f"r-{len(self.calls)}", skill or self.inferred_skill)

    async def accept(self, person: str, request_id: str, proposal_id: str) -> None:
        self._record("accept", person, request_id, proposal_id)

    async def decline(self, person: str, request_id: str, proposal_id: str) -> None:
        self._record("decline", person, request_id, proposal_id)

    async def why(self, person: str, request_id: str) -> list[Why]:
        self._record("why", person, request_id)
        return [Why("p1", 0.8, (Reason("offers kafka at level 4", 0.3),))]

    async def confirm(self, person: str, request_id: str) -> None:
        self._record("confirm", person, request_id)

    async def not_happened(self, person: str, request_id: str) -> None:
        self._record("not_happened", person, request_id)

    async def rate(self, person: str, request_id: str, rating: int) -> None:
        self._record("rate", person, request_id, rating)

    async def display_name(self, person: str) -> str:
        return self.names.get(person, person)


@dataclass
class Chat:
    service: ChatService
    app: FastAPI
    links: MemoryLinks
    seen: MemorySeen
    platform: RecordingPlatform
    api: FakeApi
    issuer: LocalIssuer


def build_chat(**settings: Any) -> Chat:
    issuer = LocalIssuer()
    links, seen, platform, api = MemoryLinks(), MemorySeen(), RecordingPlatform(), FakeApi()
    config = Settings(
        mongodb_uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1",
        kafka_bootstrap_servers="127.0.0.1:1",
        auth=issuer.settings(),
        slack_signing_secret=SECRET,
        client_secret="a-secret-of-the-chat-service-account",
        **settings,
    )
    service = bootstrap(config, links=links, seen=seen, platform=platform, api=api)
    app = create_app(config, service)
    # The in-memory issuer's keys: a real deployment's verifier has no such seam.
    app.state.peerloop_auth.verifier = TokenVerifier(issuer.settings(), issuer.key_source)
    return Chat(service, app, links, seen, platform, api, issuer)


def signed_headers(body: str, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    return testing.signed_headers(body, secret, at=at)


def command_body(text: str, *, team: str = "T1", user: str = "U1", trigger: str = "tr-1") -> str:
    return testing.command_body(text, team=team, user=user, trigger=trigger)


def button_payload(
    action_id: str, value: str, *, user: str = "U1", team: str = "T1"
) -> dict[str, Any]:
    return testing.button_payload(action_id, value, user=user, team=team)


async def post(app: FastAPI, path: str, body: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as http:
        return await http.post(path, content=body, headers=headers)
