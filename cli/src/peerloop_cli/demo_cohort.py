"""The demo's cohort: colleagues of the seeded organisation learning from each other, so
the insights dashboard has figures about at least k people (k = 5 by default).

Learners of two teams ask for skills other teams are strong in; each session is
accepted, confirmed by both and rated, and every second learner offers the new skill
onward (teach-back). Run by `peerloop demo` after the narrated loop.
"""

from __future__ import annotations

import asyncio
import random
import uuid

from peerloop_cli.demo_data import DemoOrganisation, build_organisation
from peerloop_cli.loop_client import LoopError, PeerloopClient

LEARNER_TEAMS = ("finance", "design")
SKILLS = ("python", "sql", "kubernetes")
SESSIONS = 40
AT_ONCE = 6


def cohort(
    org: DemoOrganisation, sessions: int = SESSIONS, seed: int = 22
) -> list[tuple[str, str]]:
    """(learner, skill) pairs: learners who do not offer the skill themselves."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    learners = [p for p in org.people if p.team in LEARNER_TEAMS]
    pairs: list[tuple[str, str]] = []
    while len(pairs) < sessions:
        person = learners[len(pairs) % len(learners)]
        offered = {o.skill_id for o in person.offers}
        skill = rng.choice([s for s in SKILLS if s not in offered] or list(SKILLS))
        pairs.append((person.person_id, skill))
    return pairs


async def _one_session(client: PeerloopClient, learner: str, skill: str, offer_on: bool) -> bool:
    # Imported here: demo imports this module for its last step.
    from peerloop_cli.demo import ask_until_proposed

    try:
        rid, proposal = await ask_until_proposed(client, learner, skill)
    except LoopError:
        return False  # nobody free for it right now: the cohort goes on without it
    teacher = str(proposal["helper_id"])
    await client.decide(rid, str(proposal["proposal_id"]), teacher, "accept")
    await client.confirm(rid, teacher)
    await client.confirm(rid, learner)
    await client.feedback(rid, learner, random.choice((4, 5, 5)), "Clear and patient")  # noqa: S311
    await client.feedback(rid, teacher, 5, "Good questions")
    if offer_on:
        await client.offer(learner, skill, level=2, capacity=1)
    return True


async def run_cohort(client: PeerloopClient, sessions: int = SESSIONS) -> int:
    """How many sessions were completed."""
    gate = asyncio.Semaphore(AT_ONCE)
    run = uuid.uuid4().hex[:4]

    async def one(n: int, learner: str, skill: str) -> bool:
        async with gate:
            return await _one_session(client, learner, skill, offer_on=(n + len(run)) % 2 == 0)

    done = await asyncio.gather(
        *(
            one(n, learner, skill)
            for n, (learner, skill) in enumerate(cohort(build_organisation(), sessions))
        )
    )
    return sum(done)
