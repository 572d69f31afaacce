"""The chat app on the real services: a signed slash command creates a help request, the
helper gets the proposal as a Slack message from matching's event, and pressing its
Accept button accepts it in matching.

Slack's cloud cannot run here: the chat service's Web API calls go to a local stand-in
(`peerloop_chat.testing.SlackStandIn`) that records them; requests from "Slack" are
signed with slack_sdk's own signing code, and every message sent is parsed by
slack_sdk's Block Kit models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from peerloop_chat.testing import (
    SlackStandIn,
    button_payload,
    command_body,
    interaction_body,
    signed_headers,
)
from peerloop_cli.demo import ask_until_proposed
from peerloop_cli.identity import Tokens
from peerloop_cli.infra import stack
from peerloop_cli.infra.process import free_port
from peerloop_cli.loop_client import PeerloopClient
from peerloop_cli.platform import CHAT, Deployment
from peerloop_cli.testing.groups import start_groups_at_end
from peerloop_cli.testing.waiting import eventually
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

pytestmark = pytest.mark.e2e
SECRET = "e2e-signing-secret-of-32-characters!"
TEAM = "T0E2E"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
async def chat(deployment: Deployment, infra: stack.Endpoints, slack: SlackStandIn) -> Any:
    """The chat app beside the session's services, on its own port and consumer group."""
    with_chat = dataclasses.replace(
        deployment,
        chat_port=free_port(),
        extra_env={
            **deployment.extra_env,
            "PEERLOOP_SLACK_API_URL": slack.url,
            "PEERLOOP_SLACK_SIGNING_SECRET": SECRET,
        },
    )
    await start_groups_at_end(infra.kafka_bootstrap, [f"{deployment.group_prefix}{CHAT}"])
    with_chat.start_chat(infra)
    try:
        with_chat.wait_ready(CHAT, timeout=60)
        yield with_chat
    finally:
        with_chat.process(CHAT).stop()


async def _signed(http: httpx.AsyncClient, url: str, body: str) -> httpx.Response:
    return await http.post(url, content=body, headers=signed_headers(body, SECRET))


async def _link(
    http: httpx.AsyncClient, chat: Deployment, tokens: Tokens, person: str, user: str
) -> None:
    made = await http.post(f"{chat.url(CHAT)}/links/codes", auth=tokens.as_person(person))
    assert made.status_code == 201, made.text
    body = command_body(f"link {made.json()['code']}", team=TEAM, user=user, trigger=f"l-{user}")
    linked = await _signed(http, f"{chat.url(CHAT)}/slack/commands", body)
    assert linked.status_code == 200
    assert linked.json()["text"] == "Linked"


def _blocks(message: dict[str, Any]) -> list[Block]:
    blocks = [Block.parse(raw) for raw in message["blocks"]]
    for block, raw in zip(blocks, message["blocks"], strict=True):
        assert block is not None
        block.validate_json()
        assert block.to_dict() == raw
    return [b for b in blocks if b is not None]


async def test_a_signed_slash_command_asks_and_the_accept_button_accepts(
    chat: Deployment, client: PeerloopClient, tokens: Tokens, slack: SlackStandIn, run_id: str
) -> None:
    ada, bo, cy = f"ada-{run_id}", f"bo-{run_id}", f"cy-{run_id}"
    skill = f"chat-{run_id}"
    for person, team in ((ada, "billing"), (bo, "data"), (cy, "web")):
        await client.register(person, person.title(), team, "Europe/London")
    await client.offer(bo, skill, level=4, capacity=3)
    # Matching knows bo's offer once an ask for it is proposed to bo.
    await ask_until_proposed(client, cy, skill)
    ada_user, bo_user = f"U-ada-{run_id}", f"U-bo-{run_id}"

    async with httpx.AsyncClient(timeout=30) as http:
        await _link(http, chat, tokens, ada, ada_user)
        await _link(http, chat, tokens, bo, bo_user)
        command = command_body(
            f"ask {skill}: my consumer lags", team=TEAM, user=ada_user, trigger=f"t-{run_id}"
        )
        headers = signed_headers(command, SECRET)
        url = f"{chat.url(CHAT)}/slack/commands"
        asked = await http.post(url, content=command, headers=headers)
        assert asked.status_code == 200
        assert asked.json()["response_type"] == "ephemeral"
        replayed = await http.post(url, content=command, headers=headers)
        assert replayed.status_code == 401

        told = await eventually(lambda: slack.posted_to(ada_user) or None, 30, what="ada told")
        assert told[0]["text"].startswith("Asked for help with")
        rid = told[0]["blocks"][-1]["elements"][0]["text"]  # the request id, in small print

        proposal = await eventually(
            lambda: next(
                (m for m in slack.posted_to(bo_user) if "asks for your help" in m["text"]), None
            ),
            60,
            what="the proposal message to bo",
        )
        assert proposal["text"] == f"{ada.title()} asks for your help with {skill}"
        blocks = _blocks(proposal)
        actions = next(b for b in blocks if isinstance(b, ActionsBlock))
        buttons = [e for e in actions.elements if isinstance(e, ButtonElement)]
        assert [b.text.text for b in buttons if b.text] == ["Accept", "Decline", "Why me?"]
        accept = buttons[0]

        pressed = interaction_body(
            button_payload(
                str(accept.action_id),
                str(accept.value),
                user=bo_user,
                team=TEAM,
                channel=proposal["channel"],
                message_ts="1.000001",
            )
        )
        answered = await _signed(http, f"{chat.url(CHAT)}/slack/interactivity", pressed)
        assert answered.status_code == 200

    request = await eventually(
        lambda: _accepted(client, rid, ada), 30, what="matching to record the acceptance"
    )
    assert request["session"]["teacher_id"] == bo
    update = await eventually(lambda: slack.updates() or None, 30, what="the message replaced")
    assert update[-1]["text"] == "You accepted. Thank you!"
    session_message = await eventually(
        lambda: next((m for m in slack.posted_to(ada_user) if "will help you" in m["text"]), None),
        60,
        what="the session message to ada",
    )
    assert [e["text"]["text"] for e in session_message["blocks"][-1]["elements"]] == [
        "It took place",
        "It did not happen",
    ]
    assert all(c.authorization == "Bearer xoxb-peerloop-dev" for c in slack.calls)


async def _accepted(client: PeerloopClient, rid: str, reader: str) -> dict[str, Any] | None:
    request = await client.request(rid, reader=reader)
    return request if request.get("session") else None


async def test_an_ask_naming_no_skill_is_read_by_matching_and_the_person_is_told_which(
    chat: Deployment, client: PeerloopClient, tokens: Tokens, slack: SlackStandIn, run_id: str
) -> None:
    dee = f"dee-{run_id}"
    await client.register(dee, dee.title(), "finance", "Europe/London")
    dee_user = f"U-dee-{run_id}"
    async with httpx.AsyncClient(timeout=60) as http:
        await _link(http, chat, tokens, dee, dee_user)
        command = command_body(
            "ask our pods keep getting OOMKilled right after the deploy",
            team=TEAM,
            user=dee_user,
            trigger=f"v-{run_id}",
        )
        asked = await http.post(
            f"{chat.url(CHAT)}/slack/commands",
            content=command,
            headers=signed_headers(command, SECRET),
        )
        assert asked.status_code == 200
    told = await eventually(lambda: slack.posted_to(dee_user) or None, 60, what="dee told")
    assert told[0]["text"] == "Asked for help with Kubernetes", told[0]
    rid = told[0]["blocks"][-1]["elements"][0]["text"]
    request = await client.request(rid, reader=dee)
    assert request["skill_id"] == "kubernetes"
