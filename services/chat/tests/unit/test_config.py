"""A weak or built-in signing secret, or the demo realm's client secret, only in dev mode."""

from __future__ import annotations

import pytest
from peerloop_chat.config import DEV_SIGNING_SECRET, Settings

STRONG = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.mark.parametrize("secret", [DEV_SIGNING_SECRET, "short-secret"])
def test_a_weak_signing_secret_is_refused_outside_dev_mode(secret: str) -> None:
    with pytest.raises(ValueError, match="PEERLOOP_SLACK_SIGNING_SECRET"):
        Settings(slack_signing_secret=secret, client_secret="own-secret")
    assert Settings(slack_signing_secret=secret, dev_mode=True).dev_mode


def test_the_demo_client_secret_is_refused_outside_dev_mode() -> None:
    with pytest.raises(ValueError, match="PEERLOOP_CLIENT_SECRET"):
        Settings(slack_signing_secret=STRONG)
    assert Settings(slack_signing_secret=STRONG, client_secret="own-secret").slack_api_url
