"""Channel choice, digest grouping, retry backoff and webhook signatures."""

from __future__ import annotations

import random

import pytest
from peerloop_notifications.adapters.webhook_sender import sign, verify_signature
from peerloop_notifications.domain.digest import DigestItem, group_digest
from peerloop_notifications.domain.preferences import ChannelSwitches, Preferences, channels_for
from peerloop_notifications.domain.retry import Backoff
from peerloop_notifications.domain.texts import Text, chat_text, render_digest

HOOK = "https://hooks.example.com/services/T0/B0/x"

CHANNEL_CASES = [
    # preferences, kind, channels
    (Preferences(), "match-proposed", ["inbox", "email"]),
    (Preferences(webhook_url=HOOK), "match-proposed", ["inbox", "email", "webhook"]),
    (
        Preferences(channels=ChannelSwitches(email=False), webhook_url=HOOK),
        "match-accepted",
        ["inbox", "webhook"],
    ),
    (
        Preferences(per_kind={"feedback-received": ChannelSwitches(email=False, webhook=False)}),
        "feedback-received",
        ["inbox"],
    ),
    (
        Preferences(per_kind={"feedback-received": ChannelSwitches(email=False)}),
        "match-proposed",
        ["inbox", "email"],
    ),
    (
        Preferences(channels=ChannelSwitches(inbox=False, email=False, webhook=False)),
        "match-proposed",
        [],
    ),
]


@pytest.mark.parametrize(("prefs", "kind", "expected"), CHANNEL_CASES)
def test_channels_follow_the_persons_choice(prefs, kind, expected):
    assert channels_for(prefs, kind) == expected


def test_unknown_kind_in_preferences_is_rejected():
    with pytest.raises(ValueError, match="per_kind"):
        Preferences.model_validate({"per_kind": {"coffee-break": {"email": False}}})


def _item(n: int, kind: str) -> DigestItem:
    return DigestItem(f"n{n}", kind, f"subject {n}", f"body {n}")  # type: ignore[arg-type]


def test_digest_groups_by_kind_in_a_fixed_order_keeping_arrival_order():
    items = [
        _item(1, "feedback-received"),
        _item(2, "match-proposed"),
        _item(3, "feedback-received"),
        _item(4, "teach-back-invitation"),
        _item(5, "match-proposed"),
    ]
    sections = group_digest(items)
    assert [(s.kind, [i.notification_id for i in s.items]) for s in sections] == [
        ("match-proposed", ["n2", "n5"]),
        ("feedback-received", ["n1", "n3"]),
        ("teach-back-invitation", ["n4"]),
    ]
    text = render_digest(sections, recipient_name="Ada")
    assert text.subject == "Your Peerloop digest: 5 updates"
    assert "Requests for your help (2)" in text.body
    assert text.body.index("subject 2") < text.body.index("subject 5")
    assert group_digest([]) == []


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    backoff = Backoff(base_seconds=1.0, max_seconds=10.0, max_attempts=4)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        delays = {backoff.delay(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert not backoff.exhausted(3)
    assert backoff.exhausted(4)


def test_webhook_signature_verifies_only_the_exact_body_and_secret():
    body = b'{"text": "hello"}'
    header = sign(["s3cret"], body, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header) == len("t=1700000000,v1=") + 64
    assert verify_signature(["s3cret"], body, header, now=1_700_000_000)
    assert not verify_signature(["s3cret"], body + b" ", header, now=1_700_000_000)
    assert not verify_signature(["other"], body, header, now=1_700_000_000)
    assert not verify_signature(["s3cret"], body, None, now=1_700_000_000)
    assert not verify_signature(["s3cret"], body, header, now=1_700_000_000 + 301)
    assert not verify_signature(["s3cret"], body, header.replace("t=17", "t=18"))


def test_chat_text_escapes_slack_control_characters():
    text = chat_text(Text(subject="A <b> & c", body="x > y"))
    assert text == "*A &lt;b&gt; &amp; c*\nx &gt; y"
