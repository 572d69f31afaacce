"""The HTTP API over the in-memory stores: who may read, the JSON, the CSV."""

from __future__ import annotations

import httpx
import pytest
from peerloop_insights.adapters.memory_facts import MemoryFactLog, MemoryPseudonyms
from peerloop_insights.bootstrap import bootstrap
from peerloop_insights.config import Settings
from peerloop_insights.devtools.history import History
from peerloop_insights.entrypoints.http import create_app
from peerloop_runtime.auth import TokenVerifier, routes_without_access_rule
from peerloop_runtime.auth.testing import LocalIssuer


@pytest.fixture
async def api():
    issuer = LocalIssuer()
    service = bootstrap(
        Settings(auth=issuer.settings(), refresh_seconds=0.01),
        log=MemoryFactLog(),
        pseudonyms=MemoryPseudonyms(),
    )
    service.runtime.auth = TokenVerifier(issuer.settings(), issuer.key_source)
    await service.ingest.handle_batch(list(History(people=100).events(3000)))
    app = create_app(service=service)
    assert routes_without_access_rule(app) == []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://insights"
    ) as client:
        yield client, issuer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({}, 403),
        ({"groups": ["peerloop-admins"]}, 200),
        ({"scope": "openid insights:read"}, 200),
    ],
)
async def test_only_admins_and_the_read_scope_see_the_figures(api, claims, status):
    client, issuer = api
    answer = await client.get(
        "/insights?window=all", headers=bearer(issuer.person_token("ada", **claims))
    )
    assert answer.status_code == status, answer.text
    if status == 403:
        assert "insights:read" in answer.json()["detail"]


async def test_no_token_is_401(api):
    client, _ = api
    assert (await client.get("/insights")).status_code == 401


async def test_the_json_names_no_person(api):
    client, issuer = api
    answer = await client.get(
        "/insights?window=all", headers=bearer(issuer.person_token("a", scope="insights:read"))
    )
    body = answer.json()
    assert body["skills"] and body["flows"] and body["outcomes"]["completed"]["value"] > 0
    assert "p-1" not in answer.text
    assert all(
        set(cell) == {"value", "people"}
        for cell in (body["helper_load"]["gini"], body["outcomes"]["mean_rating"])
    )


@pytest.mark.parametrize(
    "section", ["skills", "flows", "helper-load", "outcomes", "trend", "teach-back"]
)
async def test_every_section_exports_as_csv(api, section):
    client, issuer = api
    answer = await client.get(
        f"/insights/export/{section}.csv?window=all",
        headers=bearer(issuer.person_token("a", scope="insights:read")),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert len(answer.text.splitlines()) >= 2


@pytest.mark.parametrize("query", ["window=1y", "team=" + "x" * 101, "team=a%0Ab"])
async def test_bad_parameters_are_422(api, query):
    client, issuer = api
    answer = await client.get(
        f"/insights?{query}", headers=bearer(issuer.person_token("a", scope="insights:read"))
    )
    assert answer.status_code == 422


async def test_an_unknown_section_is_422(api):
    client, issuer = api
    answer = await client.get(
        "/insights/export/people.csv",
        headers=bearer(issuer.person_token("a", scope="insights:read")),
    )
    assert answer.status_code == 422
