"""Settings refuse what a deployment must not run with: a guessable webhook key, mail
credentials in the clear."""

from __future__ import annotations

import pytest
from peerloop_notifications.config import DEV_WEBHOOK_SECRET, Settings
from pydantic import ValidationError

REAL = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PEERLOOP_DEV_MODE", "PEERLOOP_WEBHOOK_SECRET", "PEERLOOP_SMTP_USERNAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("secret", [None, DEV_WEBHOOK_SECRET, "", "short", "CHANGE-ME", REAL[:-1]])
def test_outside_dev_mode_the_webhook_key_must_be_a_real_one(secret: str | None) -> None:
    values = {} if secret is None else {"webhook_secret": secret}
    with pytest.raises(ValidationError, match="PEERLOOP_WEBHOOK_SECRET must be a secret"):
        Settings(**values)  # type: ignore[arg-type]


def test_the_previous_key_of_a_change_is_held_to_the_same_rule() -> None:
    with pytest.raises(ValidationError, match="PEERLOOP_WEBHOOK_PREVIOUS_SECRET"):
        Settings(webhook_secret=REAL, webhook_previous_secret="old")  # type: ignore[arg-type]
    Settings(webhook_secret=REAL, webhook_previous_secret=REAL[::-1])  # type: ignore[arg-type]


def test_dev_mode_accepts_the_built_in_key_and_a_real_key_needs_no_dev_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(dev_mode=True).webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET
    monkeypatch.setenv("PEERLOOP_DEV_MODE", "true")
    assert Settings().dev_mode
    monkeypatch.delenv("PEERLOOP_DEV_MODE")
    monkeypatch.setenv("PEERLOOP_WEBHOOK_SECRET", REAL)
    assert Settings().webhook_secret.get_secret_value() == REAL
    assert REAL not in repr(Settings()), "the key stays out of logs"


@pytest.mark.parametrize(
    ("tls", "accepted"),
    [
        ({}, False),  # "if offered": a man in the middle strips the offer
        ({"smtp_start_tls": False}, False),
        ({"smtp_start_tls": True}, True),
        ({"smtp_use_tls": True, "smtp_port": 465}, True),
    ],
)
def test_smtp_credentials_go_only_over_tls(tls: dict[str, object], accepted: bool) -> None:
    values: dict[str, object] = {
        "dev_mode": True,  # even in dev mode
        "smtp_username": "peerloop",
        "smtp_password": "pw",
        **tls,
    }
    if accepted:
        Settings(**values)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError, match="SMTP credentials go only over TLS"):
            Settings(**values)  # type: ignore[arg-type]


def test_smtp_without_credentials_may_stay_plain_for_the_local_catcher() -> None:
    assert Settings(dev_mode=True, smtp_start_tls=False).smtp_username is None
