"""The chat use cases through the app, on in-memory stores: link by a one-time code, ask
by command or shortcut, answer with buttons, hear of proposals and sessions once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from chat_fakes import (
    Chat,
    build_chat,
    button_payload,
    command_body,
    post,
    signed_headers,
)
from peerloop_chat.application.ports import ApiRefusedError, ChatAccount
from peerloop_chat.domain import messages
from peerloop_chat.domain.messages import Action, Target
from peerloop_chat.testing import interaction_body
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import MatchAccepted, MatchProposed, SessionCompleted

ADA = ChatAccount("slack", "T1", "U1")
BO = ChatAccount("slack", "T1", "U2")


async def _command(chat: Chat, text: str, **fields: str) -> httpx.Response:
    body = command_body(text, **fields)
    return await post(chat.app, "/slack/commands", body, signed_headers(body))


async def _press(chat: Chat, action: str, value: str, user: str = "U2") -> httpx.Response:
    body = interaction_body(button_payload(action, value, user=user))
    return await post(chat.app, "/slack/interactivity", body, signed_headers(body))


async def _code_for(chat: Chat, person: str) -> str:
    transport = httpx.ASGITransport(app=chat.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as http:
        answer = await http.post(
            "/links/codes", headers={"Authorization": f"Bearer {chat.issuer.person_token(person)}"}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


async def test_a_person_links_their_account_with_a_one_time_code() -> None:
    chat = build_chat()
    code = await _code_for(chat, "ada")
    linked = await _command(chat, f"link {code.lower()}", trigger="t1")
    assert linked.json()["text"] == "Linked"
    assert await chat.links.person_for(ADA) == "ada"
    again = await _command(chat, f"link {code}", user="U9", trigger="t2")
    assert again.json()["text"] == "That link code is unknown or expired"
    assert await chat.links.person_for(ChatAccount("slack", "T1", "U9")) is None


async def test_an_expired_code_links_nobody() -> None:
    chat = build_chat()
    code = await _code_for(chat, "ada")
    later = datetime.now(UTC) + timedelta(minutes=11)
    chat.service.conversation.clock = lambda: later
    answer = await _command(chat, f"link {code}")
    assert answer.json()["text"] == "That link code is unknown or expired"


async def test_only_a_person_gets_a_link_code_not_a_service_or_a_delegate() -> None:
    chat = build_chat()
    transport = httpx.ASGITransport(app=chat.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as http:
        service = chat.issuer.service_token("peerloop-hr", scope="profiles:provision")
        refused = await http.post("/links/codes", headers={"Authorization": f"Bearer {service}"})
        anonymous = await http.post("/links/codes")
    assert refused.status_code == 403
    assert anonymous.status_code == 401


async def test_an_ask_by_slash_command_creates_a_help_request_for_the_linked_caller() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")
    answer = await _command(chat, "ask kafka: my consumer lags", trigger="trig-7")
    assert answer.status_code == 200
    assert answer.json()["text"].startswith("Asking Peerloop for help with kafka")
    assert chat.api.calls == [("ask", "ada", "kafka", "my consumer lags", 2, "slack:trig-7")]
    account, told = chat.platform.sent[-1]
    assert account == ADA
    assert told.title == "Asked for help with Apache Kafka"


async def test_an_unlinked_caller_is_told_how_to_link_and_nothing_is_asked() -> None:
    chat = build_chat()
    await _command(chat, "ask kafka: my consumer lags")
    assert chat.api.calls == []
    assert chat.platform.sent[-1][1].title.startswith("Your chat account is not linked")


async def test_the_message_shortcut_asks_about_the_message_with_the_inferred_skill() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")
    payload = {
        "type": "message_action",
        "callback_id": "ask_peerloop",
        "trigger_id": "tr-s",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "message": {"type": "message", "text": "Why does our Kubernetes ingress drop requests?"},
    }
    body = interaction_body(payload)
    answer = await post(chat.app, "/slack/interactivity", body, signed_headers(body))
    assert answer.status_code == 200
    assert chat.api.calls[0][:3] == ("ask", "ada", "kubernetes")
    assert chat.platform.sent[-1][1].lines[-1].startswith("I read the skill as Kubernetes")


async def test_an_ask_naming_no_skill_leaves_it_to_matching_and_shows_what_it_inferred() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")
    chat.api.inferred_skill = "accounting"
    await _command(chat, "ask the books never balance at quarter end", trigger="trig-9")
    assert chat.api.calls == [
        ("ask", "ada", None, "the books never balance at quarter end", 2, "slack:trig-9")
    ]
    answer = chat.platform.sent[-1][1]
    assert answer.title == "Asked for help with Accounting"
    assert answer.lines[-1].startswith("I read the skill as Accounting")


async def test_a_refusal_of_matching_reaches_the_person() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")
    chat.api.refuse = ApiRefusedError(409, "you may not ask while erased")
    await _command(chat, "ask kafka: lag")
    assert chat.platform.sent[-1][1].lines == ("you may not ask while erased",)


@pytest.mark.parametrize(
    ("action", "target", "call"),
    [
        (Action.ACCEPT, Target("r-1", "r-1.p1"), ("accept", "bo", "r-1", "r-1.p1")),
        (Action.DECLINE, Target("r-1", "r-1.p1"), ("decline", "bo", "r-1", "r-1.p1")),
        (Action.CONFIRM, Target("r-1"), ("confirm", "bo", "r-1")),
        (Action.NOT_HAPPENED, Target("r-1"), ("not_happened", "bo", "r-1")),
        (Action.RATE, Target("r-1", rating=4), ("rate", "bo", "r-1", 4)),
    ],
)
async def test_a_button_acts_through_matching_as_the_presser(
    action: Action, target: Target, call: tuple[object, ...]
) -> None:
    chat = build_chat()
    await chat.links.link(BO, "bo")
    answer = await _press(chat, f"{action.value}:0", target.encode())
    assert answer.status_code == 200
    assert chat.api.calls == [call]
    posted, shown = chat.platform.replaced[-1]
    assert (posted.channel, posted.ts) == ("D1", "1700000000.0001")
    assert shown.title == messages.DONE[action]


async def test_why_me_shows_the_score_breakdown() -> None:
    chat = build_chat()
    await chat.links.link(BO, "bo")
    await _press(chat, "why:2", Target("r-1", "p1").encode())
    shown = chat.platform.replaced[-1][1]
    assert shown.title == "Why you: a match of 80%"
    assert shown.lines == ("offers kafka at level 4 (+30%)",)


async def test_a_forged_button_value_acts_on_nothing() -> None:
    chat = build_chat()
    await chat.links.link(BO, "bo")
    await _press(chat, "accept:0", '{"r": 5}')
    assert chat.api.calls == []
    assert chat.platform.replaced[-1][1].title == "That button is not one of Peerloop's"


async def test_a_bad_payload_is_400() -> None:
    chat = build_chat()
    body = "payload=not-json"
    answer = await post(chat.app, "/slack/interactivity", body, signed_headers(body))
    assert answer.status_code == 400
    no_user = command_body("help", user="")
    answer = await post(chat.app, "/slack/commands", no_user, signed_headers(no_user))
    assert answer.status_code == 400
    assert "user_id" in answer.json()["detail"]


def _meta(event_id: str = "e-1") -> CloudEventMeta:
    return CloudEventMeta(id=event_id, source="matching", type="t", subject="r-1")


PROPOSED = MatchProposed(
    request_id="r-1",
    requester_id="ada",
    proposal_id="r-1.p1",
    helper_id="bo",
    skill_id="kafka",
    task="my consumer lags",
    score=0.8,
    breakdown=[],
    attempt=1,
    expires_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    sequence=2,
)


async def test_the_helper_hears_of_a_proposal_once_though_it_arrives_twice() -> None:
    chat = build_chat()
    chat.api.names["ada"] = "Ada Lovelace"
    await chat.links.link(BO, "bo")
    await chat.service.conversation.on_proposed(PROPOSED, _meta())
    await chat.service.conversation.on_proposed(PROPOSED, _meta())
    assert len(chat.platform.sent) == 1
    account, message = chat.platform.sent[0]
    assert account == BO
    assert message.title == "Ada Lovelace asks for your help with Apache Kafka"
    assert [b.label for b in message.buttons] == ["Accept", "Decline", "Why me?"]


async def test_a_failed_post_is_retried_by_the_redelivery() -> None:
    chat = build_chat()
    await chat.links.link(BO, "bo")
    chat.platform.failures = 1
    with pytest.raises(ConnectionError):
        await chat.service.conversation.on_proposed(PROPOSED, _meta())
    await chat.service.conversation.on_proposed(PROPOSED, _meta())
    assert len(chat.platform.sent) == 1


async def test_a_helper_without_a_chat_account_hears_nothing_here() -> None:
    chat = build_chat()
    await chat.service.conversation.on_proposed(PROPOSED, _meta())
    assert chat.platform.sent == []
    assert chat.seen.keys == {}  # no store write for the many people not in the chat


async def test_both_hear_of_the_session_and_later_are_asked_to_rate_it() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")
    await chat.links.link(BO, "bo")
    accepted = MatchAccepted(
        request_id="r-1",
        requester_id="ada",
        proposal_id="r-1.p1",
        helper_id="bo",
        session_id="s-1",
        skill_id="kafka",
        sequence=3,
    )
    await chat.service.conversation.on_accepted(accepted, _meta("e-2"))
    sent = {account.user: message for account, message in chat.platform.sent}
    assert sent["U2"].title == "You help ada with Apache Kafka"
    assert sent["U1"].title == "bo will help you with Apache Kafka"
    assert [b.action for b in sent["U1"].buttons] == [Action.CONFIRM, Action.NOT_HAPPENED]
    completed = SessionCompleted(
        request_id="r-1",
        requester_id="ada",
        session_id="s-1",
        learner_id="ada",
        teacher_id="bo",
        skill_id="kafka",
        level=2,
        duration_minutes=30,
        completed_at=datetime(2026, 12, 3, tzinfo=UTC),
        sequence=6,
    )
    await chat.service.conversation.on_completed(completed, _meta("e-3"))
    rated = chat.platform.sent[-2:]
    assert {a.user for a, _ in rated} == {"U1", "U2"}
    assert all([b.action for b in m.buttons] == [Action.RATE] * 5 for _, m in rated)


async def test_an_unexpected_failure_after_the_answer_is_told_not_lost() -> None:
    chat = build_chat()
    await chat.links.link(ADA, "ada")

    async def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("the store went away")

    chat.api.ask = broken  # type: ignore[method-assign]
    answer = await _command(chat, "ask kafka: lag")
    assert answer.status_code == 200
    assert chat.platform.sent[-1][1].title == "Peerloop could not take that ask"
