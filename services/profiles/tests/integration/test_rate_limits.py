"""Profile writes are limited per person: 429 with Retry-After, others unaffected, HR exempt."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from peerloop_cli.identity import BearerAuth, Tokens
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.http import create_app
from peerloop_runtime.rate_limit import RateLimitSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def limited(settings: Settings, hr: BearerAuth) -> AsyncIterator[httpx.AsyncClient]:
    tight = settings.model_copy(update={"rate_limit": RateLimitSettings(profile_writes="3/hour")})
    app = create_app(tight)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://p", auth=hr) as http:
            yield http


def _person(person_id: str) -> dict[str, str]:
    return {
        "person_id": person_id,
        "display_name": person_id,
        "email": f"{person_id}@example.com",
        "team": "billing",
        "time_zone": "Europe/London",
    }


async def test_a_person_changing_their_profile_too_often_gets_429(
    limited: httpx.AsyncClient, tokens: Tokens, run_id: str
) -> None:
    ada, bob = f"ada-{run_id}", f"bob-{run_id}"
    # HR provisioning (a service account) is not limited: five writes in a row.
    for person in (ada, bob):
        assert (await limited.post("/people", json=_person(person))).status_code == 201
    for n in range(3):
        offered = await limited.post(
            f"/people/{ada}/skills", json={"skill": f"skill-{n}", "level": 3}
        )
        assert offered.status_code == 200, offered.text

    as_ada = tokens.as_person(ada)
    codes = []
    for n in range(4):
        change = await limited.patch(f"/people/{ada}", json={"team": f"t{n}"}, auth=as_ada)
        codes.append(change.status_code)
    assert codes == [200, 200, 200, 429]
    assert 1 <= int(change.headers["Retry-After"]) <= 1200  # a token back every 20 minutes
    assert change.json()["detail"].startswith("too many profile changes: at most 3 per 3600")
    # Every write route shares the class: offering a skill is refused too ...
    refused = await limited.post(
        f"/people/{ada}/skills", json={"skill": "go", "level": 2}, auth=as_ada
    )
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # ... and nothing was changed by the refused calls.
    assert (await limited.get(f"/people/{ada}")).json()["team"] == "t2"
    # Another person is not affected.
    bobs = await limited.patch(f"/people/{bob}", json={"team": "t9"}, auth=tokens.as_person(bob))
    assert bobs.status_code == 200
