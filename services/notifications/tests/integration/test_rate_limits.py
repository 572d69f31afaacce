"""Preference changes are limited per person: 429 with Retry-After; another person goes on."""

from __future__ import annotations

import pytest
from peerloop_runtime.rate_limit import RateLimitSettings

pytestmark = pytest.mark.integration


async def test_too_many_preference_changes_are_refused_with_retry_after(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    me, other = f"fiddler-{run_id}", f"calm-{run_id}"
    tight = RateLimitSettings(preference_changes="2/hour")
    async with running(settings_for(rate_limit=tight)) as (_, client):
        await publish.event(person(me, name="Fay Fiddler"))
        await publish.event(person(other, name="Cal Calm"))

        async def known():
            answers = [
                await client.get(f"/people/{p}/preferences", auth=as_person(p)) for p in (me, other)
            ]
            return all(a.status_code == 200 for a in answers)

        await eventually(known)

        async def change(who: str, version: int, email: bool):
            return await client.put(
                f"/people/{who}/preferences",
                json={"expected_version": version, "preferences": {"channels": {"email": email}}},
                auth=as_person(who),
            )

        assert (await change(me, 0, False)).status_code == 200
        assert (await change(me, 1, True)).status_code == 200
        refused = await change(me, 2, False)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 1800  # a token back every 30 min
        assert refused.json()["detail"].startswith("too many preference changes: at most 2 per")
        view = (await client.get(f"/people/{me}/preferences", auth=as_person(me))).json()
        assert view["version"] == 2 and view["preferences"]["channels"]["email"] is True
        # Another person is not affected.
        assert (await change(other, 0, False)).status_code == 200
