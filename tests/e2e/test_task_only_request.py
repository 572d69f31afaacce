"""A request that names no skill, only the task, is proposed to a helper who offers the
skill inferred from the task: the real services, broker, store and identity provider."""

from __future__ import annotations

import uuid

import pytest
from peerloop_cli.loop_client import Json, LoopError, PeerloopClient, wait_for

pytestmark = pytest.mark.e2e

TASK = "Our pods keep getting OOMKilled right after the deploy and restart in a loop"


async def _ask_when_known(client: PeerloopClient, requester: str) -> Json:
    key = f"task-only-{uuid.uuid4().hex}"

    async def ask() -> Json | None:
        try:
            return await client.ask(requester, None, 3, TASK, idempotency_key=key)
        except LoopError as exc:
            if "HTTP 503" in str(exc):  # matching has not heard of the requester yet
                return None
            raise

    made = await wait_for(ask, lambda r: r is not None, 120, "matching to know the requester")
    assert made is not None
    return made


async def test_a_task_without_a_skill_is_proposed_to_someone_who_offers_the_inferred_skill(
    client: PeerloopClient, run_id: str
) -> None:
    ada, bo, cy = (f"{n}-{run_id}" for n in ("ada", "bo", "cy"))
    await client.register(ada, "Ada", "billing", "Europe/London")
    await client.register(bo, "Bo", "platform", "Europe/London")
    await client.register(cy, "Cy", "finance", "Europe/London")
    await client.offer(bo, "kubernetes", level=4, capacity=3)
    await client.offer(cy, "accounting", level=4, capacity=3)
    for _ in range(10):  # offers travel apart from registrations: ask again if none arrived yet
        made = await _ask_when_known(client, ada)
        assert made["skill_id"] == "kubernetes"
        assert made["inferred_skills"][0] == "kubernetes"
        rid = str(made["request_id"])
        proposal = await wait_for(
            lambda rid=rid: client.request(rid),
            lambda r: r["state"] == "unmatched" or client.pending_proposal(r) is not None,
            120,
            "the inferred request to be proposed",
        )
        if proposal["state"] != "unmatched":
            break
    assert proposal["state"] != "unmatched", proposal.get("unmatched_detail")
    pending = client.pending_proposal(proposal)
    assert pending is not None
    helper = await client.person(str(pending["helper_id"]))
    assert any(s["skill_id"] == "kubernetes" for s in helper["skills_offered"]), helper
    assert pending["helper_id"] != cy
