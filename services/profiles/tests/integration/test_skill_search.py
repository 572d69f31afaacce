"""Type-ahead over the skills taxonomy through the real HTTP API (Keycloak token)."""

from __future__ import annotations

import httpx


async def test_type_ahead_ranks_skills_with_their_aliases(client: httpx.AsyncClient) -> None:
    response = await client.get("/skills", params={"q": "kube"})
    assert response.status_code == 200
    body = response.json()
    first = body["items"][0]
    assert (first["id"], first["matched"], first["source"]) == ("kubernetes", "kube", "peerloop")
    assert "k8s" in first["aliases"]
    assert body["taxonomy_version"].startswith("esco-1-ict+")


async def test_type_ahead_reaches_esco_skills_and_refuses_an_empty_query(
    client: httpx.AsyncClient,
) -> None:
    found = (await client.get("/skills", params={"q": "haskell", "limit": 3})).json()["items"]
    assert found[0]["id"] == "haskell" and found[0]["source"] == "esco"
    assert (await client.get("/skills", params={"q": ""})).status_code == 422
    assert (await client.get("/skills", params={"q": "x", "limit": 500})).status_code == 422
