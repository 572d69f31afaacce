"""Load the demo organisation into a running platform through its public HTTP APIs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from peerloop_cli.demo_data import DemoOrganisation, DemoPerson

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


async def seed_people(profiles_url: str, org: DemoOrganisation, progress: Progress) -> int:
    """Idempotent: people already registered are left as they are."""
    limits = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=profiles_url, timeout=30) as client:

        async def one(person: DemoPerson) -> bool:
            async with limits:
                return await _register(client, person)

        created = sum(await asyncio.gather(*(one(p) for p in org.people)))
    progress(f"demo people: {created} registered, {len(org.people) - created} already there")
    return created
