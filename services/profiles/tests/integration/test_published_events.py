"""Each endpoint publishes exactly its events, keyed by person, in CloudEvents binary mode."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime

import httpx
import pytest
from peerloop_contracts.catalogue import BY_TOPIC
from peerloop_contracts.profiles import ProfileErased, SkillOffered

from .conftest import ReadPublished

pytestmark = pytest.mark.integration

TRACEPARENT = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"


async def test_each_endpoint_publishes_exactly_its_events(
    client: httpx.AsyncClient, read_events: ReadPublished, run_id: str
) -> None:
    pid = f"ev-{run_id}"
    base = f"/people/{pid}"
    steps: list[tuple[httpx.Response, list[str]]] = []

    async def step(call: Awaitable[httpx.Response], expected: list[str]) -> None:
        steps.append((await call, expected))

    trace = {"traceparent": TRACEPARENT}
    await step(
        client.post(
            "/people",
            json={
                "person_id": pid,
                "display_name": "Eve",
                "email": "eve@example.com",
                "team": "ops",
                "time_zone": "UTC",
            },
            headers=trace,
        ),
        ["profile-registered", "availability-changed"],
    )
    await step(client.patch(base, json={"team": "platform"}), ["profile-updated"])
    await step(client.patch(base, json={"team": "platform"}), [])  # nothing changed
    await step(client.patch(base, json={"team": "x", "version": 1}), [])  # stale: 409
    await step(client.patch(base, json={"time_zone": "Nowhere"}), [])  # invalid: 422
    await step(client.post(f"{base}/skills", json={"skill": "k8s", "level": 3}), ["skill-offered"])
    await step(client.put(f"{base}/skills/kubernetes", json={"level": 4}), ["skill-offered"])
    await step(client.delete(f"{base}/skills/k8s"), ["skill-withdrawn"])
    await step(client.delete(f"{base}/skills/k8s"), [])  # not offered: 404
    await step(
        client.post(f"{base}/learning-goals", json={"skill": "rust", "target_level": 3}),
        ["learning-goal-set"],
    )
    await step(client.delete(f"{base}/learning-goals/rust"), ["learning-goal-removed"])
    await step(
        client.put(f"{base}/availability", json={"weekly_capacity": 5}), ["availability-changed"]
    )
    await step(client.delete(base), ["profile-erased"])
    await step(client.delete(base), [])  # already erased
    await step(client.post(f"{base}/skills", json={"skill": "go", "level": 1}), [])  # erased: 409

    assert [r.status_code for r, _ in steps] == [
        201,
        200,
        200,
        409,
        422,
        200,
        200,
        200,
        404,
        200,
        200,
        200,
        204,
        204,
        409,
    ]
    expected = [name for _, names in steps for name in names]

    published = await read_events(pid, want=len(expected))
    assert [p.topic for p in published] == [f"peerloop.{name}.v1" for name in expected]
    assert [p.sequence for p in published] == list(range(1, len(expected) + 1))
    assert len({p.ce_id for p in published}) == len(published)
    for record in published:
        event_type = BY_TOPIC[record.topic]
        event = event_type.decode(record.body)
        assert record.key == pid
        assert record.headers["ce_specversion"] == "1.0"
        assert record.headers["ce_type"] == event_type.ce_type()
        assert record.headers["ce_source"] == "peerloop/profiles"
        assert record.headers["ce_subject"] == pid
        assert record.headers["content-type"] == "application/json"
        uuid.UUID(record.ce_id)
        datetime.fromisoformat(record.headers["ce_time"])
        assert event.subject == pid
    assert published[0].headers["traceparent"] == TRACEPARENT
    assert "traceparent" not in published[2].headers

    offers = [SkillOffered.decode(p.body) for p in published if p.topic == SkillOffered.topic()]
    assert [(o.skill_id, o.skill_name, o.level) for o in offers] == [
        ("kubernetes", "Kubernetes", 3),
        ("kubernetes", "Kubernetes", 4),
    ]
    assert published[-1].topic == ProfileErased.topic()
    assert published[-1].body == {"person_id": pid, "sequence": len(expected)}
