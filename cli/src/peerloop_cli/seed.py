"""Load the demo organisation into a running platform through its public HTTP APIs.

People are provisioned as HR would: by the `peerloop-hr` service account (scope
`profiles:provision`); each open help request is asked by its requester, logged in.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import httpx

from peerloop_cli.demo_data import DemoOrganisation, DemoPerson, DemoRequest
from peerloop_cli.identity import SERVICES, IdentityProvider, Tokens

Progress = Callable[[str], None]


class SeedError(RuntimeError):
    pass


async def _register(client: httpx.AsyncClient, person: DemoPerson) -> bool:
    """Register one person with their offers; False when they were already there."""
    answer = await client.post(
        "/people",
        json={
            "person_id": person.person_id,
            "display_name": person.display_name,
            "email": person.email,
            "team": person.team,
            "manager_id": person.manager_id,
            "time_zone": person.time_zone,
            "languages": list(person.languages),
            "weekly_capacity": person.weekly_capacity,
        },
    )
    if answer.status_code == 409:
        return False
    _check(answer, f"register {person.person_id}")
    for offer in person.offers:
        answer = await client.post(
            f"/people/{person.person_id}/skills",
            json={
                "skill": offer.skill_id,
                "level": offer.level,
                "description": offer.description,
                "weekly_capacity": offer.weekly_capacity,
            },
        )
        _check(answer, f"offer {offer.skill_id} for {person.person_id}")
    return True


def _check(answer: httpx.Response, what: str) -> None:
    if answer.status_code >= 400:
        raise SeedError(f"{what}: HTTP {answer.status_code} {answer.text[:300]}")


async def seed_people(
    profiles_url: str, org: DemoOrganisation, tokens: Tokens, progress: Progress
) -> int:
    """Idempotent: people already registered are left as they are."""
    limits = asyncio.Semaphore(8)
    hr = tokens.as_service(*SERVICES["hr"])
    async with httpx.AsyncClient(base_url=profiles_url, timeout=30, auth=hr) as client:

        async def one(person: DemoPerson) -> bool:
            async with limits:
                return await _register(client, person)

        created = sum(await asyncio.gather(*(one(p) for p in org.people)))
    progress(f"demo people: {created} registered, {len(org.people) - created} already there")
    return created


async def seed_requests(
    matching_url: str,
    org: DemoOrganisation,
    tokens: Tokens,
    progress: Progress,
    *,
    patience: float = 120.0,
) -> list[str]:
    """Ask the organisation's open help requests; returns their ids.

    Each is asked with an idempotency key made of what it asks, so running `up`
    again finds the same requests instead of asking twice.
    """
    async with httpx.AsyncClient(base_url=matching_url, timeout=30) as client:
        asked = [await _ask(client, tokens, request, patience) for request in org.requests]
    created = sum(new for _, new in asked)
    progress(f"open help requests: {created} asked, {len(asked) - created} already there")
    return [request_id for request_id, _ in asked]


async def seed_organisation(
    profiles_url: str, matching_url: str, org: DemoOrganisation, progress: Progress
) -> None:
    async with Tokens(IdentityProvider.from_env()) as tokens:
        await seed_people(profiles_url, org, tokens, progress)
        await seed_requests(matching_url, org, tokens, progress)


def request_key(request: DemoRequest) -> str:
    asked = f"{request.requester_id}|{request.skill_id}|{request.desired_level}|{request.task}"
    return f"demo-{hashlib.sha256(asked.encode()).hexdigest()[:16]}"


async def _ask(
    client: httpx.AsyncClient, tokens: Tokens, request: DemoRequest, patience: float
) -> tuple[str, bool]:
    """The request's id, and whether it is new (not asked by an earlier `up`)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        answer = await client.post(
            "/help-requests",
            json={
                "skill": request.skill_id,
                "desired_level": request.desired_level,
                "task": request.task,
            },
            headers={"Idempotency-Key": request_key(request)},
            auth=tokens.as_person(request.requester_id, register=False),
        )
        # Matching learns of people from their profile events, a moment after profiles:
        # until then it answers 503, and the key makes the retries one ask.
        if answer.status_code != 503 or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.5)
    _check(answer, f"ask for help with {request.skill_id} as {request.requester_id}")
    replayed: str | None = answer.headers.get("Idempotent-Replayed")
    return str(answer.json()["request_id"]), replayed != "true"
