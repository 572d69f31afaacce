"""What Peerloop says in a chat, and the buttons it offers, before any platform's format.

A `Message` is a title, plain-text lines (people's own words among them: each platform
adapter escapes them for its markup) and buttons. A button carries an `Action`, which
comes back from the platform when it is pressed; its `value` names the request (and
proposal or rating), never the person: who pressed it is the platform's verified user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Style = Literal["primary", "danger"]


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WHY = "why"
    CONFIRM = "confirm"
    NOT_HAPPENED = "not-happened"
    RATE = "rate"


@dataclass(frozen=True)
class Target:
    """What a button acts on; travels as the button's value."""

    request_id: str
    proposal_id: str | None = None
    rating: int | None = None

    def encode(self) -> str:
        data = {"r": self.request_id, "p": self.proposal_id, "n": self.rating}
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> Target:
        """Raises ValueError for anything that is not a value this service wrote."""
        data = json.loads(value)
        if not isinstance(data, dict) or not isinstance(data.get("r"), str):
            raise ValueError("not a Peerloop button value")
        proposal, rating = data.get("p"), data.get("n")
        if proposal is not None and not isinstance(proposal, str):
            raise ValueError("not a Peerloop button value")
        if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
            raise ValueError("not a Peerloop button value")
        return cls(data["r"], proposal, rating)


@dataclass(frozen=True)
class Button:
    action: Action
    label: str
    target: Target
    style: Style | None = None


@dataclass(frozen=True)
class Message:
    title: str
    lines: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    note: str | None = None
    """Small print under the message (expiry, what happens next)."""
    quoted: tuple[str, ...] = field(default=())
    """People's own words (a task), shown apart as a quotation."""

    @property
    def summary(self) -> str:
        """One line for notifications and clients that show no rich layout."""
        return self.title


def proposal(
    *, request_id: str, proposal_id: str, skill: str, task: str, requester: str, expires: str
) -> Message:
    target = Target(request_id, proposal_id)
    return Message(
        title=f"{requester} asks for your help with {skill}",
        quoted=(task,),
        buttons=(
            Button(Action.ACCEPT, "Accept", target, "primary"),
            Button(Action.DECLINE, "Decline", target, "danger"),
            Button(Action.WHY, "Why me?", target),
        ),
        note=f"The ask moves on to someone else if nobody answers by {expires}.",
    )


def why(reasons: list[tuple[str, float]], score: float) -> Message:
    return Message(
        title=f"Why you: a match of {score:.0%}",
        lines=tuple(f"{text} ({share:+.0%})" for text, share in reasons),
    )


def accepted(*, request_id: str, skill: str, other: str, helper: bool) -> Message:
    who = f"You help {other}" if helper else f"{other} will help you"
    target = Target(request_id)
    return Message(
        title=f"{who} with {skill}",
        lines=("After the session, confirm here that it took place.",),
        buttons=(
            Button(Action.CONFIRM, "It took place", target, "primary"),
            Button(Action.NOT_HAPPENED, "It did not happen", target),
        ),
    )


def rate(*, request_id: str, skill: str, other: str) -> Message:
    return Message(
        title=f"How was your {skill} session with {other}?",
        buttons=tuple(
            Button(Action.RATE, "★" * n, Target(request_id, rating=n)) for n in range(1, 6)
        ),
        note="Your rating helps Peerloop pick good helpers; one rating never decides.",
    )


def asked(*, skill: str, inferred: bool, request_id: str) -> Message:
    lines = ["Peerloop is finding the right peer; you will hear here when someone accepts."]
    if inferred:
        lines.append(f"I read the skill as {skill}; name another one as `ask <skill>: <task>`.")
    return Message(title=f"Asked for help with {skill}", lines=tuple(lines), note=request_id)


def unmatched(*, skill: str) -> Message:
    return Message(
        title=f"Nobody can take your {skill} ask right now",
        lines=("Everyone who offers it is away, busy this week, or was asked already.",),
    )


def plain(title: str, *lines: str) -> Message:
    return Message(title=title, lines=lines)


DONE = {
    Action.ACCEPT: "You accepted. Thank you!",
    Action.DECLINE: "You declined; the ask moves on to someone else.",
    Action.CONFIRM: "Noted: the session took place.",
    Action.NOT_HAPPENED: "Noted: the session did not happen.",
    Action.RATE: "Thank you for your rating.",
}
