"""The local broker's readiness probe stays out of the namespace outside subscribers read."""

from __future__ import annotations

import re

import pytest
from peerloop_cli.infra.kafka.readiness import READINESS_GROUP, READINESS_TOPIC

# What the subscriber guide tells an outside system to subscribe to, and a narrower choice.
SUBSCRIBER_PATTERNS = [r"peerloop\..*", r"peerloop\.[a-z-]+\.v\d+"]


@pytest.mark.parametrize("pattern", SUBSCRIBER_PATTERNS)
def test_a_subscriber_pattern_never_matches_the_readiness_topic(pattern: str) -> None:
    assert re.fullmatch(pattern, READINESS_TOPIC) is None


def test_the_probe_group_is_not_a_peerloop_service_group() -> None:
    assert not READINESS_GROUP.startswith(("peerloop.", "peerloop-profiles", "peerloop-matching"))
