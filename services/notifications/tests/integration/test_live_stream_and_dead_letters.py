"""The SSE stream over a real HTTP server, and poison events on the real broker."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequestUnmatched
from peerloop_contracts.topics import dlq_topic
from peerloop_notifications.entrypoints.http import create_app

pytestmark = pytest.mark.integration


def unmatched(run_id: str, requester: str) -> HelpRequestUnmatched:
    return HelpRequestUnmatched(
        request_id=f"r-{run_id}",
        requester_id=requester,
        skill_id=f"skill-{run_id}",
        reason="no_one_offers",
        sequence=2,
    )


async def test_live_stream_receives_a_new_item(
    as_person, settings_for, publish, run_id, eventually, person, serve_app, any_free_port
):
    me = f"watcher-{run_id}"
    app = create_app(settings_for())
    async with (
        serve_app(app, any_free_port()) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        await publish.event(person(me, name="Wanda Watcher"))

        async def known():
            return (
                await client.get(f"/people/{me}/preferences", auth=as_person(me))
            ).status_code == 200

        await eventually(known)
        frames: list[dict[str, object]] = []
        async with client.stream("GET", f"/people/{me}/inbox/stream", auth=as_person(me)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"
            entry = await publish.event(unmatched(run_id, me))

            async def next_frame() -> None:
                event = None
                async for line in lines:
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: ") and event == "notification":
                        frames.append(json.loads(line.removeprefix("data: ")))
                        return

            await asyncio.wait_for(next_frame(), timeout=30)
    assert frames[0]["kind"] == "help-request-unmatched"
    assert frames[0]["source_event_id"] == entry.id
    assert "Nobody could take your request" in str(frames[0]["subject"])


async def test_streams_beyond_the_cap_are_refused_with_retry_after(
    as_person, settings_for, publish, run_id, eventually, person, serve_app, any_free_port
):
    me = f"many-tabs-{run_id}"
    app = create_app(settings_for(stream_max_per_person=1, stream_retry_after_seconds=9))
    async with (
        serve_app(app, any_free_port()) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        await publish.event(person(me, name="Tabby Tabs"))

        async def known():
            return (
                await client.get(f"/people/{me}/preferences", auth=as_person(me))
            ).status_code == 200

        await eventually(known)
        async with client.stream("GET", f"/people/{me}/inbox/stream", auth=as_person(me)) as first:
            assert first.status_code == 200
            # Held until the end: a line iterator dropped early closes the connection with it.
            lines = first.aiter_lines()
            assert await anext(lines) == ": connected"
            async with client.stream(
                "GET", f"/people/{me}/inbox/stream", auth=as_person(me)
            ) as second:
                assert second.status_code == 429
                assert second.headers["retry-after"] == "9"
                assert "per person" in json.loads(await second.aread())["detail"]
            assert first.is_closed is False
        # The first one closed: its place is free again.

        async def free_again():
            async with client.stream(
                "GET", f"/people/{me}/inbox/stream", auth=as_person(me)
            ) as again:
                return again.status_code == 200

        await eventually(free_again)


async def test_unparseable_event_is_dead_lettered_and_the_partition_moves_on(
    as_person,
    settings_for,
    publish,
    run_id,
    running,
    eventually,
    person,
    read_topic,
    kafka_bootstrap,
):
    me = f"poisoned-{run_id}"
    topic = HelpRequestUnmatched.topic()
    key = f"r-{run_id}"  # the same key as the good event: the same partition, before it
    meta = CloudEventMeta(
        source="peerloop/matching", type=HelpRequestUnmatched.ce_type(), subject=key
    )
    async with running(settings_for()) as (_, client):
        await publish.event(person(me, name="Pat Poisoned"))
        await publish.raw(topic, b'{"request_id": "not enough fields"', key, meta.to_headers())
        await publish.event(unmatched(run_id, me))

        async def delivered():
            answer = await client.get(f"/people/{me}/inbox", auth=as_person(me))
            return answer.status_code == 200 and answer.json()["items"]

        items = await eventually(delivered)
    assert items[0]["kind"] == "help-request-unmatched"
    dead = await read_topic(
        kafka_bootstrap,
        dlq_topic(topic),
        match=lambda r: dict(r.headers).get("ce_id") == meta.id.encode(),
        want=1,
    )
    headers = dict(dead[0].headers)
    assert headers["dlq_reason"].decode().startswith("unparseable")
    assert headers["dlq_source_topic"].decode() == topic
    assert headers["dlq_consumer_group"].decode() == f"test-notifications-{run_id}"
