"""A matching service wired to the real store but not started: use cases called directly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from matching_harness import settings_for
from peerloop_matching.bootstrap import MatchingService, bootstrap


@pytest.fixture
async def offline_service(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str
) -> AsyncIterator[MatchingService]:
    service = bootstrap(settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id))
    await service.candidates.ensure_indexes()
    await service.request_store.ensure_indexes()
    yield service
    await service.runtime.client.close()
