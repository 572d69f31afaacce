"""Personal data on topics is bounded: every topic that may carry it forgets it within 30 days.

A topic deleting by age has a finite retention. A compacted (entity state) topic keeps
the newest record of each key for good, so there the bound is on erasure: the
tombstone replaces the person's records within the compaction lag (plus the segment
time before the cleaner may touch them), and the tombstone itself goes after
`delete.retention.ms`.
"""

from __future__ import annotations

from peerloop_cli.infra.paths import repo_root
from peerloop_cli.infra.topics import load_topics
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_contracts.profiles import ProfileErased

THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
KEPT_FOREVER = {ProfileErased.topic()}
"""Carries no personal data (a person id and a sequence), and every future consumer needs it."""


def test_every_topic_with_personal_data_forgets_it_within_thirty_days() -> None:
    specs = load_topics(repo_root() / "deploy" / "topics.yaml")
    unbounded = [
        (s.name, s.retention_ms)
        for s in specs
        if s.compaction is None
        and s.name not in KEPT_FOREVER
        and not 0 < s.retention_ms <= THIRTY_DAYS_MS
    ]
    assert not unbounded, f"topics keeping personal data longer than 30 days: {unbounded}"


def test_state_topics_are_compacted_and_forget_an_erased_person_within_thirty_days() -> None:
    by_name = {s.name: s for s in load_topics(repo_root() / "deploy" / "topics.yaml")}
    assert STATE_TOPICS
    for topic in STATE_TOPICS:
        spec = by_name[topic]
        assert spec.compaction is not None, f"{topic} must be compacted"
        assert spec.configs()["cleanup.policy"] == "compact"
        c = spec.compaction
        assert c.segment_ms + c.max_compaction_lag_ms + c.delete_retention_ms <= THIRTY_DAYS_MS
        twin = by_name[f"{topic}.dlq"]
        assert twin.compaction is None and 0 < twin.retention_ms <= THIRTY_DAYS_MS


def test_the_erasure_topic_carries_no_personal_data() -> None:
    assert set(ProfileErased.model_fields) == {"person_id", "sequence"}
