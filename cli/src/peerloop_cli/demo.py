"""`peerloop demo`: one whole learning loop against the running platform, step by step."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from peerloop_cli.demo_cohort import SESSIONS, run_cohort
from peerloop_cli.loop_client import Json, LoopError, PeerloopClient, wait_for

Say = Callable[[str], None]


async def run_demo(client: PeerloopClient, say: Say) -> None:
    run = uuid.uuid4().hex[:6]
    ada, bo, cy = f"ada-{run}", f"bo-{run}", f"cy-{run}"
    skill = f"billing-report-tuning-{run}"  # an in-house skill only this cast offers

    say("1. Three people log in (tokens from the identity provider) and register their profiles")
    await client.register(ada, "Ada Okafor", "billing", "Europe/London")
    await client.register(bo, "Bo Tanaka", "data", "Europe/Berlin")
    await client.register(cy, "Cy Silva", "platform", "America/New_York")

    say(f"2. Bo and Cy offer the skill {skill!r}")
    await client.offer(bo, skill, level=4)
    await client.offer(cy, skill, level=5)

    say("3. Ada asks for help tied to the task in hand")
    rid, first = await ask_until_proposed(client, ada, skill, say)
    say(f"4. Matching proposes {first['helper_id']} (score {first['score']:.2f}); why:")
    for part in first.get("breakdown", []):
        say(f"     {part['name']:>14}: {part['contribution']:+.3f}  {part['explanation']}")

    say(f"5. {first['helper_id']} declines; matching moves to the next candidate")
    await client.decide(rid, first["proposal_id"], first["helper_id"], "decline")
    second = await _wait_proposed(client, rid, attempt=2)
    teacher = second["helper_id"]
    say(f"   proposed to {teacher} (score {second['score']:.2f})")

    say(f"6. {teacher} accepts; a session exists")
    await client.decide(rid, second["proposal_id"], teacher, "accept")

    say("7. Both confirm the session happened")
    await client.confirm(rid, teacher)
    await client.confirm(rid, ada)

    say("8. Both give feedback")
    await client.feedback(rid, ada, 5, "Found the missing index in ten minutes")
    await client.feedback(rid, teacher, 4, "Great questions")

    say("9. Profiles records Ada's new skill; notifications invites her to teach it onward")
    invitation = await client.wait_for_inbox(ada, "teach-back-invitation", limit=90)
    say(f"   Ada's inbox: {_title(invitation[0])!r}")
    learned = (await client.person(ada)).get("skills_learned", [])
    say(f"   Ada learned: {[s.get('skill_id') for s in learned]}")
    proposals = await client.wait_for_inbox(teacher, "match-proposed", limit=60)
    say(f"   {teacher}'s inbox had: {_title(proposals[0])!r}")
    say(f"10. {SESSIONS} colleagues of the finance and design teams learn from other teams")
    completed = await run_cohort(client)
    say(f"   {completed} sessions completed and rated; the insights dashboard (/insights,")
    say("   admins p-010 and p-020) shows them wherever at least 5 people stand behind a figure")
    say("Done: the loop closed. `peerloop events tail --from-beginning` shows every event.")


async def _ask_when_known(
    client: PeerloopClient, requester: str, skill: str, traceparent: str | None = None
) -> Json:
    """Matching learns of new people through events: it answers 503 until it knows the
    requester, and the same idempotency key makes the retries one ask."""
    key = f"demo-{uuid.uuid4().hex}"

    async def attempt() -> Json | None:
        try:
            return await client.ask(
                requester,
                skill,
                3,
                "Tune the slow billing report by Friday",
                traceparent=traceparent,
                idempotency_key=key,
            )
        except LoopError as exc:
            if "HTTP 503" in str(exc):
                return None
            raise

    # Right after `peerloop up` matching may still be applying the demo organisation's events.
    request = await wait_for(
        attempt, lambda r: r is not None, 300, "matching to know the requester"
    )
    assert request is not None
    return request


async def ask_until_proposed(
    client: PeerloopClient,
    requester: str,
    skill: str,
    say: Say | None = None,
    *,
    traceparent: str | None = None,
) -> tuple[str, Json]:
    """Ask, and ask again while matching has not yet applied the new offers.

    Offers travel on another topic than registrations, so right after people
    register a request can find nobody offering the skill yet ("no_one_offers").
    """
    for _ in range(20):
        request = await _ask_when_known(client, requester, skill, traceparent)
        rid = str(request["request_id"])
        settled = await client.wait_for_request(
            rid,
            lambda r: r["state"] == "unmatched" or client.pending_proposal(r) is not None,
            limit=300,
        )
        proposal = client.pending_proposal(settled)
        if proposal is not None:
            if say is not None:
                say(f"   help request {rid}")
            return rid, proposal
        await asyncio.sleep(3)
    raise LoopError("matching never found the offers of the people just registered")


async def _wait_proposed(client: PeerloopClient, rid: str, attempt: int) -> Json:
    request = await client.wait_for_request(
        rid,
        lambda r: len(r.get("proposals", [])) >= attempt and client.pending_proposal(r) is not None,
        limit=300,
    )
    proposal = client.pending_proposal(request)
    assert proposal is not None
    return proposal


def _title(item: Json) -> str:
    return str(item.get("subject") or item.get("title") or item.get("kind"))
