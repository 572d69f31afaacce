"""Inbox, deliveries, preferences and the live stream are the person's own, with real tokens.

Over a real HTTP server, so the owner's live stream can be opened too.
"""

from __future__ import annotations

import httpx
import pytest
from peerloop_cli.realm import ADMINS
from peerloop_notifications.entrypoints.http import OWN_RULE, create_app

pytestmark = pytest.mark.integration


async def test_only_the_person_reads_their_inbox_preferences_and_stream(
    as_person, settings_for, publish, run_id, eventually, person, serve_app, any_free_port
):
    me, stranger = f"owner-{run_id}", f"stranger-{run_id}"
    app = create_app(settings_for())
    async with (
        serve_app(app, any_free_port()) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        await publish.event(person(me, name="Olga Owner"))
        await publish.event(person(stranger, name="Sid Stranger"))

        async def known():
            answers = [
                await client.get(f"/people/{p}/preferences", auth=as_person(p))
                for p in (me, stranger)
            ]
            return all(a.status_code == 200 for a in answers)

        await eventually(known)
        mine = f"/people/{me}"
        put = {"expected_version": 0, "preferences": {"channels": {"email": False}}}
        for caller in (as_person(stranger), as_person(ADMINS[0])):
            refused = [
                await client.get(f"{mine}/inbox", auth=caller),
                await client.get(f"{mine}/inbox/unread-count", auth=caller),
                await client.post(f"{mine}/inbox/read-all", auth=caller),
                await client.post(f"{mine}/inbox/inbox:{me}:x/read", auth=caller),
                await client.get(f"{mine}/deliveries", auth=caller),
                await client.get(f"{mine}/preferences", auth=caller),
                await client.put(f"{mine}/preferences", json=put, auth=caller),
            ]
            async with client.stream("GET", f"{mine}/inbox/stream", auth=caller) as stream:
                await stream.aread()
                refused.append(stream)
            assert [r.status_code for r in refused] == [403] * len(refused)
            assert {r.json()["detail"] for r in refused} == {OWN_RULE}
            # Decided before the store is read: someone unknown is refused alike.
            nobody = await client.get(f"/people/nobody-{run_id}/inbox", auth=caller)
            assert (nobody.status_code, nobody.json()["detail"]) == (403, OWN_RULE)

        owner = as_person(me)
        inbox = await client.get(f"{mine}/inbox", auth=owner)
        assert inbox.status_code == 200 and inbox.json()["total"] == 0
        preferences = await client.get(f"{mine}/preferences", auth=owner)
        assert preferences.status_code == 200
        assert preferences.json()["version"] == 0  # the refused PUTs changed nothing
        assert preferences.json()["preferences"]["channels"]["email"] is True
        assert (await client.get(f"{mine}/deliveries", auth=owner)).status_code == 200
        async with client.stream("GET", f"{mine}/inbox/stream", auth=owner) as stream:
            assert stream.status_code == 200
            assert await anext(stream.aiter_lines()) == ": connected"
