"""Store commands slower than the threshold are logged with their shape, never their values."""

from __future__ import annotations

import logging

import pytest
from peerloop_runtime.mongo import connect

pytestmark = pytest.mark.integration


async def test_a_slow_command_is_logged_with_collection_and_filter_keys(
    mongodb_uri: str, mongo_db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = connect(mongodb_uri, app_name="test-slow-log", slow_command_ms=0.000001)
    try:
        with caplog.at_level(logging.WARNING, logger="peerloop.store"):
            await client[mongo_db_name].people.find_one({"_id": "secret-id", "team": "x"})
    finally:
        await client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "peerloop.store"]
    assert any("find people {'filter': ['_id', 'team']}" in line for line in lines), lines
    assert not any("secret-id" in line for line in lines)


async def test_nothing_is_logged_below_the_threshold_or_when_off(
    mongodb_uri: str, mongo_db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    for threshold in (60_000.0, 0.0):
        client = connect(mongodb_uri, app_name="test-slow-log", slow_command_ms=threshold)
        try:
            with caplog.at_level(logging.WARNING, logger="peerloop.store"):
                await client[mongo_db_name].people.find_one({"_id": "p"})
        finally:
            await client.close()
    assert not [r for r in caplog.records if r.name == "peerloop.store"]
