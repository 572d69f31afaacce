"""What a typed command means: the skill named before a colon, else the first known one,
else none (matching infers it)."""

from __future__ import annotations

import pytest
from peerloop_chat.domain.commands import Ask, Link, Usage, ask_about, parse_command
from peerloop_contracts.skills import default_catalogue

CATALOGUE = default_catalogue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ask kafka: my consumer lags", Ask("kafka", "my consumer lags", skill_inferred=False)),
        ("ask K8s: pods restart", Ask("kubernetes", "pods restart", skill_inferred=False)),
        ("ask our billing dsl: how do I", Ask("our-billing-dsl", "how do I", skill_inferred=False)),
        ("ask my kafka consumer lags", Ask("kafka", "my kafka consumer lags", skill_inferred=True)),
        (
            "ASK why is postgres slow",
            Ask("postgresql", "why is postgres slow", skill_inferred=True),
        ),
        # No skill the catalogue knows: matching infers it from the task's meaning.
        (
            "ask the books never balance at quarter end",
            Ask(None, "the books never balance at quarter end", skill_inferred=True),
        ),
        ("link 7kq2-m9xd", Link("7KQ2M9XD")),
        ("link 7KQ2M9XD", Link("7KQ2M9XD")),
    ],
)
def test_commands_that_mean_something(text: str, expected: object) -> None:
    assert parse_command(text, CATALOGUE) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", None),
        ("help", None),
        ("ask", "Say what you need help with"),
        ("ask !!!: task", "is not a skill name"),
        ("link nope", "A link code looks like"),
        ("dance", "I know `ask`, `link` and `help`"),
        ("ask kafka: " + "x" * 2001, "at most 2000 characters"),
    ],
)
def test_everything_else_is_answered_with_how_to(text: str, problem: str | None) -> None:
    answer = parse_command(text, CATALOGUE)
    assert isinstance(answer, Usage)
    if problem is None:
        assert answer.problem is None
    else:
        assert answer.problem is not None
        assert problem in answer.problem


def test_a_pointed_message_is_read_like_an_ask() -> None:
    assert ask_about("Our Kubernetes ingress drops requests", CATALOGUE) == Ask(
        "kubernetes", "Our Kubernetes ingress drops requests", skill_inferred=True
    )
