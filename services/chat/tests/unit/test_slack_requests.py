"""Every request from Slack is verified with the signing secret and its timestamp: signed
exactly as Slack signs (slack_sdk), a wrong, stale, replayed or unsigned one is 401."""

from __future__ import annotations

import time

from chat_fakes import build_chat, command_body, post, signed_headers
from peerloop_chat.application.ports import ChatAccount
from peerloop_runtime.auth import routes_without_access_rule

PATHS = ("/slack/commands", "/slack/interactivity")


async def test_a_request_signed_by_slack_is_answered() -> None:
    chat = build_chat(dev_mode=False)
    body = command_body("help")
    answer = await post(chat.app, "/slack/commands", body, signed_headers(body))
    assert answer.status_code == 200
    assert answer.json()["response_type"] == "ephemeral"


async def test_another_secret_a_changed_body_or_no_signature_is_401() -> None:
    chat = build_chat()
    body = command_body("help")
    for path in PATHS:
        wrong = await post(chat.app, path, body, signed_headers(body, secret="x" * 32))
        assert wrong.status_code == 401, path
        assert "does not verify" in wrong.json()["detail"]
        tampered = await post(chat.app, path, body + "&x=1", signed_headers(body))
        assert tampered.status_code == 401
        unsigned = await post(chat.app, path, body, {})
        assert unsigned.status_code == 401
        assert "no Slack signature" in unsigned.json()["detail"]
    assert chat.api.calls == []


async def test_a_stale_request_is_401_though_its_signature_is_right() -> None:
    chat = build_chat()
    body = command_body("ask kafka: my consumer lags")
    stale = await post(
        chat.app, "/slack/commands", body, signed_headers(body, at=time.time() - 301)
    )
    assert stale.status_code == 401
    assert "older than 5 minutes" in stale.json()["detail"]
    future = signed_headers(body, at=time.time() + 301)
    assert (await post(chat.app, "/slack/commands", body, future)).status_code == 401
    junk = {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}
    assert (await post(chat.app, "/slack/commands", body, junk)).status_code == 401
    assert chat.api.calls == []


async def test_a_replayed_request_is_401_and_acts_once() -> None:
    chat = build_chat()
    chat.links.people[ChatAccount("slack", "T1", "U1")] = "ada"
    body = command_body("ask kafka: my consumer lags")
    headers = signed_headers(body)
    first = await post(chat.app, "/slack/commands", body, headers)
    replay = await post(chat.app, "/slack/commands", body, headers)
    assert first.status_code == 200
    assert replay.status_code == 401
    assert "replay" in replay.json()["detail"]
    assert [c[0] for c in chat.api.calls] == ["ask"]


async def test_every_route_has_an_access_rule() -> None:
    assert routes_without_access_rule(build_chat().app) == []
