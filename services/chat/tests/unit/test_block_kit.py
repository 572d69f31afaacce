"""Every message goes out as Block Kit that slack_sdk's models accept: parsed back block by
block, validated against Slack's documented limits, and the same after the round trip."""

from __future__ import annotations

import pytest
from peerloop_chat.adapters.slack import payload_for
from peerloop_chat.domain import messages
from peerloop_chat.domain.messages import Action, Message, Target
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

LONG_TASK = "my <consumer> & its lag " * 400  # beyond a section's 3000 characters

MESSAGES: dict[str, Message] = {
    "proposal": messages.proposal(
        request_id="r-1",
        proposal_id="r-1.p1",
        skill="Apache Kafka",
        task="my consumer lags",
        requester="Ada Lovelace",
        expires="02 Dec 09:00 UTC",
    ),
    "long proposal": messages.proposal(
        request_id="r-1",
        proposal_id="r-1.p1",
        skill="Apache Kafka",
        task=LONG_TASK,
        requester="A" * 300,
        expires="02 Dec 09:00 UTC",
    ),
    "why": messages.why([("offers kafka at level 4", 0.3), ("works the same hours", 0.2)], 0.81),
    "accepted": messages.accepted(request_id="r-1", skill="Kafka", other="Bo", helper=True),
    "rate": messages.rate(request_id="r-1", skill="Kafka", other="Bo"),
    "asked": messages.asked(skill="Kafka", inferred=True, request_id="r-1"),
    "unmatched": messages.unmatched(skill="Kafka"),
    "plain": messages.plain("Linked"),
}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_the_payload_is_valid_block_kit(name: str) -> None:
    payload = payload_for(MESSAGES[name])
    assert payload["text"]
    assert 1 <= len(payload["blocks"]) <= 50  # a message holds at most 50 blocks
    for raw in payload["blocks"]:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()  # raises SlackObjectFormationError beyond a documented limit
        assert block.to_dict() == raw


def test_a_proposal_has_accept_decline_and_why_buttons_carrying_the_proposal() -> None:
    blocks = [Block.parse(raw) for raw in payload_for(MESSAGES["proposal"])["blocks"]]
    assert isinstance(blocks[0], HeaderBlock)
    actions = next(b for b in blocks if isinstance(b, ActionsBlock))
    buttons = [e for e in actions.elements if isinstance(e, ButtonElement)]
    assert [b.text.text for b in buttons if b.text] == ["Accept", "Decline", "Why me?"]
    assert [b.style for b in buttons] == ["primary", "danger", None]
    assert [str(b.action_id).partition(":")[0] for b in buttons] == ["accept", "decline", "why"]
    assert len({b.action_id for b in buttons}) == 3  # unique within the block, as Slack requires
    assert {Target.decode(str(b.value)) for b in buttons} == {Target("r-1", "r-1.p1")}


def test_five_rating_buttons() -> None:
    blocks = [Block.parse(raw) for raw in payload_for(MESSAGES["rate"])["blocks"]]
    actions = next(b for b in blocks if isinstance(b, ActionsBlock))
    ratings = [Target.decode(str(e.value)).rating for e in actions.elements]  # type: ignore[attr-defined]
    assert ratings == [1, 2, 3, 4, 5]


def test_peoples_words_are_escaped_and_cut_to_the_limits() -> None:
    blocks = payload_for(MESSAGES["long proposal"])["blocks"]
    quoted = blocks[1]["text"]["text"]
    assert "<consumer>" not in quoted
    assert "&lt;consumer&gt; &amp; its" in quoted
    assert len(quoted) <= 3000
    assert len(blocks[0]["text"]["text"]) <= 150


@pytest.mark.parametrize(
    "value", ["", "[]", '{"r": 1}', '{"r": "x", "n": 9}', '{"r": "x", "p": 3}']
)
def test_a_button_value_this_service_did_not_write_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        Target.decode(value)


def test_every_action_has_its_done_text() -> None:
    assert set(messages.DONE) == set(Action) - {Action.WHY}
