"""Settings: weights from the environment, the single-connection store URI."""

from __future__ import annotations

import pytest
from peerloop_matching.config import Settings


def test_weights_and_ttl_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_WEIGHTS__CROSS_TEAM", "0.25")
    monkeypatch.setenv("PEERLOOP_PROPOSAL_TTL_SECONDS", "2")
    settings = Settings()
    assert settings.weights.to_weights().cross_team == 0.25
    assert settings.weights.to_weights().skill_fit == 0.30
    assert settings.proposal_ttl.total_seconds() == 2


def test_a_positive_repeat_pairing_weight_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_WEIGHTS__REPEAT_PAIRING", "0.1")
    with pytest.raises(ValueError, match="repeat_pairing"):
        Settings()


def test_default_weights_sum_to_one_so_a_score_reads_as_a_fraction() -> None:
    weights = Settings().weights
    # task_fit, like available_soon, is a bonus on top, added by re-ranking the shortlist.
    on_top = {"related_skill_discount", "task_fit"}
    positive = [v for k, v in weights.model_dump().items() if k not in on_top and v > 0]
    assert sum(positive) == pytest.approx(1.0)
