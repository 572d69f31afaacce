"""An admin defines an organisation skill; every replica of profiles and matching knows it
without a restart: the real services (two replicas each), broker, store and identity provider.
"""

from __future__ import annotations

import httpx
import pytest
from peerloop_cli.identity import Tokens
from peerloop_cli.loop_client import Json, LoopError, PeerloopClient, wait_for
from peerloop_cli.platform import Deployment

pytestmark = pytest.mark.e2e


async def test_an_admin_defines_a_skill_that_type_ahead_and_matching_use_at_once(
    deployment: Deployment, client: PeerloopClient, tokens: Tokens, run_id: str
) -> None:
    admin, ada, bo = (f"{n}-{run_id}" for n in ("admin", "ada", "bo"))
    skill, alias = f"acme-ledger-{run_id}", f"ledger-{run_id}"
    await tokens.ensure_person(admin, email=f"{admin}@example.com", name="Pat Admin", admin=True)
    profiles = deployment.url("profiles")
    definition = {"name": f"Acme Ledger {run_id}", "aliases": [alias]}
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await http.put(
            f"{profiles}/skills/{skill}", json=definition, auth=tokens.as_person(ada)
        )
        assert refused.status_code == 403, refused.text
        made = await http.put(
            f"{profiles}/skills/{skill}", json=definition, auth=tokens.as_person(admin)
        )
        assert made.status_code == 200, made.text
        assert made.json()["source"] == "organisation"
        clash = await http.put(
            f"{profiles}/skills/other-{run_id}",
            json={"name": "Other", "aliases": [alias]},
            auth=tokens.as_person(admin),
        )
        assert clash.status_code == 422 and skill in clash.text, clash.text

        # Every profiles replica: the one that stored it at once, the others from the topic.
        for replica in deployment.replicas("profiles"):
            url = deployment.url("profiles", replica)

            async def typed(url: str = url) -> list[Json]:
                answer = await http.get(
                    f"{url}/skills", params={"q": alias[:4]}, auth=tokens.as_person(ada)
                )
                items: list[Json] = answer.json()["items"]
                return items

            found = await wait_for(
                typed, lambda items: any(i["id"] == skill for i in items), 60, "type-ahead"
            )
            assert next(i for i in found if i["id"] == skill)["aliases"] == [alias]

        # Every matching replica, from the topic: the task-skills model suggests it too.
        task = f"How do I reverse a posting in our {alias}?"
        for replica in deployment.replicas("matching"):
            url = deployment.url("matching", replica)

            async def suggested(url: str = url) -> list[str]:
                answer = await http.post(
                    f"{url}/task-skills", json={"task": task}, auth=tokens.as_person(ada)
                )
                return [s["id"] for s in answer.json()["skills"]]

            await wait_for(suggested, lambda ids: skill in ids, 120, "matching to suggest it")

    await client.register(ada, "Ada", "billing", "Europe/London")
    await client.register(bo, "Bo", "finance", "Europe/London")
    offered = await client.offer(bo, alias, level=4, capacity=3)  # the alias, normalised
    assert any(s["skill_id"] == skill for s in offered["skills_offered"]), offered

    async def ask() -> Json | None:
        try:
            return await client.ask(ada, alias, 3, task)
        except LoopError as exc:
            if "HTTP 503" in str(exc):  # matching has not heard of the requester yet
                return None
            raise

    for _ in range(10):  # the offer travels apart from the registration: ask again
        made_request = await wait_for(ask, lambda r: r is not None, 120, "matching to know Ada")
        assert made_request is not None
        assert made_request["skill_id"] == skill
        rid = str(made_request["request_id"])
        request = await wait_for(
            lambda rid=rid: client.request(rid),
            lambda r: r["state"] == "unmatched" or client.pending_proposal(r) is not None,
            120,
            "the request to be proposed",
        )
        if request["state"] != "unmatched":
            break
    pending = client.pending_proposal(request)
    assert pending is not None, request.get("unmatched_detail")
    assert pending["helper_id"] == bo
