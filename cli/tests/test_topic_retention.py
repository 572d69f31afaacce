"""Personal data on topics is bounded: every topic that may carry it has a finite retention."""

from __future__ import annotations

from peerloop_cli.infra.paths import repo_root
from peerloop_cli.infra.topics import load_topics
from peerloop_contracts.profiles import ProfileErased

THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
KEPT_FOREVER = {ProfileErased.topic()}
"""Carries no personal data (a person id and a sequence), and every future consumer needs it."""


def test_every_topic_with_personal_data_forgets_it_within_thirty_days() -> None:
    specs = load_topics(repo_root() / "deploy" / "topics.yaml")
    unbounded = [
        (s.name, s.retention_ms)
        for s in specs
        if s.name not in KEPT_FOREVER and not 0 < s.retention_ms <= THIRTY_DAYS_MS
    ]
    assert not unbounded, f"topics keeping personal data longer than 30 days: {unbounded}"


def test_the_erasure_topic_carries_no_personal_data() -> None:
    assert set(ProfileErased.model_fields) == {"person_id", "sequence"}
