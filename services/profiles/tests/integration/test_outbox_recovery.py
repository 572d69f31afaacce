"""The outbox survives a crash between the write and the publish."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app
from peerloop_runtime.kafka import publish_entry
from peerloop_runtime.outbox import OutboxEntry

from .conftest import ReadPublished

pytestmark = pytest.mark.integration


async def test_events_written_before_a_crash_are_published_after_restart_exactly_once_in_effect(
    settings: Settings, hr: httpx.Auth, read_events: ReadPublished, run_id: str
) -> None:
    pid = f"crash-{run_id}"
    crashed = create_app(settings)
    async with LifespanManager(crashed, startup_timeout=60, shutdown_timeout=30):
        runtime = crashed.state.runtime
        await runtime.relay.stop()  # the relay is gone: writes land in the outbox only
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=crashed), base_url="http://p", auth=hr
        ) as http:
            registered = await http.post(
                "/people",
                json={
                    "person_id": pid,
                    "display_name": "Cy",
                    "email": "cy@example.com",
                    "team": "ops",
                    "time_zone": "UTC",
                },
            )
            offered = await http.post(f"/people/{pid}/skills", json={"skill": "go", "level": 2})
        assert (registered.status_code, offered.status_code) == (201, 200)
        doc = await runtime.db.people.find_one({"_id": pid})
        # The change events; each write's state record follows them on the state topic.
        pending = [
            OutboxEntry.model_validate(e) for e in doc["outbox"] if e["topic"] not in STATE_TOPICS
        ]
        assert [e.headers["ce_type"] for e in pending] == [
            "io.peerloop.profile-registered.v1",
            "io.peerloop.availability-changed.v1",
            "io.peerloop.skill-offered.v1",
        ]
        # The relay had published the first entry when the process died, before clearing it.
        await publish_entry(runtime.broker, pending[0])

    before_restart = await read_events(pid, want=1, quiet=1.5)
    assert [r.ce_id for r in before_restart] == [pending[0].id]
    restarted = create_app(settings)
    async with LifespanManager(restarted, startup_timeout=60, shutdown_timeout=30):
        records = await read_events(pid, want=4)
        doc = await restarted.state.runtime.db.people.find_one({"_id": pid})
        assert doc["outbox"] == []

    assert len(records) == 4  # at least once: the first entry went out twice, same ce_id
    applied: dict[str, int] = {}
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        applied.setdefault(record.ce_id, record.sequence)  # a consumer deduping by ce_id
    assert sorted(applied.values()) == [1, 2, 3]
    assert {e.id for e in pending} == set(applied)
