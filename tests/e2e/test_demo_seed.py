"""`peerloop up`'s demo data: people with their skills, and open help requests, once."""

from __future__ import annotations

import pytest
from peerloop_cli.demo_data import build_organisation
from peerloop_cli.identity import Tokens
from peerloop_cli.loop_client import PeerloopClient, wait_for
from peerloop_cli.platform import Deployment
from peerloop_cli.seed import seed_people, seed_requests

pytestmark = pytest.mark.e2e


async def test_seeding_asks_the_open_requests_once_and_they_are_matched(
    deployment: Deployment, client: PeerloopClient, tokens: Tokens
) -> None:
    org = build_organisation(size=60)
    said: list[str] = []
    await seed_people(deployment.url("profiles"), org, tokens, said.append)
    first = await seed_requests(deployment.url("matching"), org, tokens, said.append)
    assert said == [
        f"demo people: {len(org.people)} registered, 0 already there",
        f"open help requests: {len(org.requests)} asked, 0 already there",
    ]
    someone = org.people[0]
    offered = (await client.person(someone.person_id))["skills_offered"]
    assert [s["skill_id"] for s in offered] == [o.skill_id for o in someone.offers]

    # `up` again: the same requests are found, not asked twice.
    said.clear()
    assert await seed_requests(deployment.url("matching"), org, tokens, said.append) == first
    assert said == [f"open help requests: 0 asked, {len(org.requests)} already there"]

    async def states() -> list[str]:
        return [
            str((await client.request(rid, reader=asked.requester_id))["state"])
            for rid, asked in zip(first, org.requests, strict=True)
        ]

    # Each waits on a proposed helper, or says why nobody can help (waiting for one).
    settled = await wait_for(
        states,
        lambda got: all(s in ("proposed", "waiting", "unmatched") for s in got),
        60,
        "the open requests matched",
    )
    assert settled.count("proposed") >= 3, settled
