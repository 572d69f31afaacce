"""Which publish failures dead-letter an outbox entry (the record's own fault) and which wait."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    CorruptRecordException,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    RecordListTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownError,
    UnknownTopicOrPartitionError,
)
from peerloop_runtime.kafka import permanent_refusal

CASES: list[tuple[BaseException, str | None]] = [
    # The record itself: the same bytes fail the same way on every attempt.
    (MessageSizeTooLargeError("client max_request_size"), "too_large"),
    (MessageSizeTooLargeError(), "too_large"),  # the broker's MESSAGE_TOO_LARGE
    (RecordListTooLargeError(), "too_large"),
    (CorruptRecordException(), "invalid_record"),
    # The topic, the connection or the cluster: an operator or time fixes them.
    (UnknownTopicOrPartitionError(), None),
    (TopicAuthorizationFailedError(), None),
    (KafkaTimeoutError(), None),
    (KafkaConnectionError(), None),
    (RequestTimedOutError(), None),
    (NotLeaderForPartitionError(), None),
    (NotEnoughReplicasError(), None),
    (UnknownError(), None),
    (OSError("connection reset"), None),
    (RuntimeError("anything else"), None),
]


@pytest.mark.parametrize(("error", "reason"), CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_only_faults_of_the_record_are_permanent(error: BaseException, reason: str | None) -> None:
    assert permanent_refusal(error) == reason
