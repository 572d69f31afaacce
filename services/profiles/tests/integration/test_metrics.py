"""`/metrics` on a running service, parsed with Prometheus' own parser."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


async def test_metrics_count_http_requests_and_published_events(
    app: FastAPI, hr: httpx.Auth, run_id: str
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://t", auth=hr
    ) as http:
        before = _samples((await http.get("/metrics")).text)
        answer = await http.post(
            "/people",
            json={
                "person_id": f"m-{run_id}",
                "display_name": "M",
                "email": "m@example.com",
                "team": "t",
                "time_zone": "Europe/Paris",
            },
        )
        assert answer.status_code == 201
        topic = "peerloop.profile-registered.v1"
        for _ in range(100):
            after = _samples((await http.get("/metrics")).text)
            published = _value(
                after, "peerloop_events_published_total", service="profiles", topic=topic
            )
            if published > _value(
                before, "peerloop_events_published_total", service="profiles", topic=topic
            ):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the published event was not counted")
    route = {"service": "profiles", "method": "POST", "route": "/people", "status": "201"}
    assert (
        _value(after, "peerloop_http_requests_total", **route)
        == _value(before, "peerloop_http_requests_total", **route) + 1
    )
    assert (
        _value(after, "peerloop_http_request_seconds_count", service="profiles", route="/people")
        >= 1
    )
    assert ("peerloop_outbox_backlog", frozenset({("service", "profiles")})) in after
