"""Forgetting an erased person in the texts of others' notifications."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from peerloop_notifications.domain.notification import REDACTED, Notification, redact_text

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def item(subject: str, body: str, mentions: dict[str, tuple[str, ...]]) -> Notification:
    return Notification(
        id="inbox:me:ev:feedback-received",
        person_id="me",
        kind="feedback-received",
        channel="inbox",
        source_event_id="ev",
        source_type="t",
        subject=subject,
        body=body,
        created_at=NOW,
        mentions=mentions,
    )


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("Tom rated you", ["Tom"], f"{REDACTED} rated you"),
        ("Tomorrow Tom comes", ["Tom"], f"Tomorrow {REDACTED} comes"),
        (
            'Ann Lee wrote: "great (really)"',
            ["Ann Lee", "great (really)"],
            f'{REDACTED} wrote: "{REDACTED}"',
        ),
        ("Ann and Ann Lee", ["Ann", "Ann Lee"], f"{REDACTED} and {REDACTED}"),
        ("nobody here", ["Tom"], "nobody here"),
        ("empty words change nothing", ["", "  "], "empty words change nothing"),
    ],
)
def test_redact_text_replaces_whole_words_longest_first(
    text: str, words: list[str], expected: str
) -> None:
    assert redact_text(text, words) == expected


def test_forget_takes_out_one_person_and_keeps_the_others() -> None:
    n = item(
        "Tom rated your session with Ann",
        'Tom wrote: "Ann explained it well"',
        {"tom": ("Tom", "Ann explained it well"), "ann": ("Ann",)},
    )
    forgotten = n.forget("tom")
    assert forgotten.subject == f"{REDACTED} rated your session with Ann"
    assert forgotten.body == f'{REDACTED} wrote: "{REDACTED}"'
    assert dict(forgotten.mentions) == {"ann": ("Ann",)}
    assert forgotten.forget("tom") == forgotten  # again: nothing to do
    assert n.forget("stranger") is n
