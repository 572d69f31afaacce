"""The local broker's readiness probe, and tests' private topics, stay out of the namespace
outside subscribers read."""

from __future__ import annotations

import re

import pytest
from peerloop_cli.infra.kafka.readiness import READINESS_GROUP, READINESS_TOPIC
from peerloop_cli.testing.names import unique_name
from peerloop_cli.testing.topic_sets import private_prefix
from peerloop_contracts.profiles import SkillOffered

# What the subscriber guide tells an outside system to subscribe to, and a narrower choice.
SUBSCRIBER_PATTERNS = [r"peerloop\..*", r"peerloop\.[a-z-]+\.v\d+"]


@pytest.mark.parametrize("pattern", SUBSCRIBER_PATTERNS)
def test_a_subscriber_pattern_never_matches_the_readiness_topic(pattern: str) -> None:
    assert re.fullmatch(pattern, READINESS_TOPIC) is None


def test_the_probe_group_is_not_a_peerloop_service_group() -> None:
    assert not READINESS_GROUP.startswith(("peerloop.", "peerloop-profiles", "peerloop-matching"))


@pytest.mark.parametrize("pattern", SUBSCRIBER_PATTERNS)
def test_a_tests_private_topic_set_is_outside_the_public_namespace(pattern: str) -> None:
    topic = private_prefix(unique_name()) + SkillOffered.topic().removeprefix("peerloop.")
    assert re.fullmatch(pattern, topic) is None
