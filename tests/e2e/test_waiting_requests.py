"""A request nobody can take waits, and moves within seconds of someone able to take it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from peerloop_cli.loop_client import LoopError, PeerloopClient, wait_for

pytestmark = pytest.mark.e2e

MOVES_WITHIN = 10.0
"""Seconds from the helper's offer (or return) being accepted by profiles to the proposal."""


async def _ask(client: PeerloopClient, requester: str, skill: str) -> str:
    async def attempt() -> str | None:
        try:
            return str(
                (await client.ask(requester, skill, 2, "Review my Helm chart"))["request_id"]
            )
        except LoopError as exc:  # 503 until matching knows the new requester
            if "HTTP 503" in str(exc):
                return None
            raise

    return await wait_for(attempt, lambda rid: rid is not None, 60, "the ask")  # type: ignore[return-value]


async def _moved_within(client: PeerloopClient, rid: str, started: float) -> tuple[dict, float]:
    request = await client.wait_for_request(
        rid, lambda r: client.pending_proposal(r) is not None, limit=60
    )
    return request, asyncio.get_running_loop().time() - started


async def test_a_waiting_request_is_proposed_within_seconds_of_an_offer(
    client: PeerloopClient, run_id: str
) -> None:
    asker, helper = f"wt-a-{run_id}", f"wt-h-{run_id}"
    skill = f"waiting-{run_id}"
    await client.register(asker, "Asker", "billing", "UTC")
    await client.register(helper, "Helper", "platform", "UTC")
    rid = await _ask(client, asker, skill)

    waiting = await client.wait_for_request(rid, lambda r: r["state"] == "waiting", limit=60)
    assert waiting["waiting_reason"] == "no_one_offers" and waiting["proposals"] == []
    [told] = await client.wait_for_inbox(asker, "help-request-waiting")
    assert "waiting for a helper" in str(told)

    started = asyncio.get_running_loop().time()
    await client.offer(helper, skill, level=4)
    request, took = await _moved_within(client, rid, started)
    assert client.pending_proposal(request)["helper_id"] == helper  # type: ignore[index]
    assert took <= MOVES_WITHIN, f"proposed {took:.1f} s after the offer"
    print(f"waiting request proposed {took:.2f} s after the offer")
    [moved] = await client.wait_for_inbox(asker, "help-request-moved")
    assert "has moved" in str(moved)
    assert len(await client.wait_for_inbox(helper, "match-proposed")) == 1


async def test_a_request_waiting_for_helpers_away_moves_when_one_comes_back(
    client: PeerloopClient, run_id: str
) -> None:
    asker, helper = f"wa-a-{run_id}", f"wa-h-{run_id}"
    skill = f"away-{run_id}"
    today = date.today()
    await client.register(asker, "Asker", "billing", "UTC")
    await client.register(helper, "Helper", "platform", "UTC")
    await client.offer(helper, skill, level=4)
    await client.set_away(helper, today.isoformat(), (today + timedelta(days=7)).isoformat())

    await asyncio.sleep(5)  # matching applies the availability event (another topic)
    rid = await _ask(client, asker, skill)
    waiting = await client.wait_for_request(rid, lambda r: r["state"] == "waiting", limit=60)
    assert waiting["waiting_reason"] == "all_away"
    started = asyncio.get_running_loop().time()
    back = today - timedelta(days=7)
    await client.set_away(helper, back.isoformat(), (back + timedelta(days=1)).isoformat())
    request, took = await _moved_within(client, rid, started)
    assert client.pending_proposal(request)["helper_id"] == helper  # type: ignore[index]
    assert took <= MOVES_WITHIN, f"proposed {took:.1f} s after the return"
    await client.wait_for_inbox(asker, "help-request-moved")


async def _as(
    client: PeerloopClient, person: str, method: str, path: str, **options: object
) -> dict:
    answer = await client.http.request(
        method, f"{client.profiles_url}{path}", auth=client.tokens.as_person(person), **options
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def test_a_private_paused_helper_is_hidden_held_back_then_proposed_when_resumed(
    client: PeerloopClient, run_id: str
) -> None:
    asker, helper = f"wp-a-{run_id}", f"wp-h-{run_id}"
    skill = f"quiet-{run_id}"
    await client.register(asker, "Asker", "billing", "UTC")
    await client.register(helper, "Helper", "platform", "UTC")
    next_week = (date.today() + timedelta(days=7)).isoformat()
    await _as(
        client,
        helper,
        "PUT",
        f"/people/{helper}/availability",
        json={"weekly_capacity": 3, "proposals_paused_until": next_week},
    )
    await _as(
        client,
        helper,
        "POST",
        f"/people/{helper}/skills",
        json={"skill": skill, "level": 4, "weekly_capacity": 2, "private": True},
    )
    search = await _as(client, asker, "GET", "/people", params={"offers": skill})
    assert search["items"] == []  # private: nobody finds them in people search

    await asyncio.sleep(5)  # matching applies the offer and the pause (other topics)
    rid = await _ask(client, asker, skill)
    waiting = await client.wait_for_request(rid, lambda r: r["state"] == "waiting", limit=60)
    assert waiting["waiting_reason"] == "all_away"  # paused helpers are not asked

    started = asyncio.get_running_loop().time()
    await _as(client, helper, "PUT", f"/people/{helper}/availability", json={"weekly_capacity": 3})
    request, took = await _moved_within(client, rid, started)
    assert client.pending_proposal(request)["helper_id"] == helper  # type: ignore[index]
    assert took <= MOVES_WITHIN, f"proposed {took:.1f} s after the pause was lifted"
