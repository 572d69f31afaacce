"""Who sees and changes what of a profile, with tokens from the real identity provider.

A stranger (any other employee) reads the public part only; the person, an admin and
HR provisioning read all of it. A stranger's changes are refused before anything is
written or published.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from peerloop_cli.identity import Tokens
from peerloop_cli.realm import ADMINS

from .conftest import ReadPublished

pytestmark = pytest.mark.integration

PRIVATE = (
    "email",
    "manager_id",
    "location",
    "working_hours",
    "weekly_capacity",
    "away_until",
    "away_periods",
    "learning_goals",
    "version",
    "erased_at",
)
PUBLIC = {
    "person_id",
    "status",
    "display_name",
    "team",
    "time_zone",
    "languages",
    "skills_offered",
    "skills_learned",
    "sessions_taught",
}
# What registering and setting up the person publishes: nothing else may follow.
SET_UP = ["availability-changed", "learning-goal-set", "profile-registered", "skill-offered"]


async def _set_up(client: httpx.AsyncClient, run_id: str) -> tuple[str, dict[str, Any]]:
    """A person with every private detail filled in, registered by HR provisioning."""
    pid = f"ada-{run_id}"
    registered = await client.post(
        "/people",
        json={
            "person_id": pid,
            "display_name": "Ada",
            "email": f"ada.{run_id}@example.com",
            "team": "billing",
            "manager_id": f"boss-{run_id}",
            "location": "Hamburg",
            "time_zone": "Europe/London",
            "languages": ["en"],
            "weekly_capacity": 3,
            "away_periods": [{"start": "2020-01-01", "end": "2099-12-31"}],
        },
    )
    assert registered.status_code == 201, registered.text
    offered = await client.post(f"/people/{pid}/skills", json={"skill": "go", "level": 4})
    assert offered.status_code == 200, offered.text
    goal = await client.post(
        f"/people/{pid}/learning-goals", json={"skill": "rust", "target_level": 2}
    )
    assert goal.status_code == 200, goal.text
    whole: dict[str, Any] = goal.json()
    return pid, whole


def _topics(records: list[Any]) -> list[str]:
    return sorted(r.topic.removeprefix("peerloop.").removesuffix(".v1") for r in records)


async def test_a_stranger_reads_the_public_part_the_person_and_an_admin_read_all(
    client: httpx.AsyncClient, tokens: Tokens, run_id: str
) -> None:
    pid, whole = await _set_up(client, run_id)
    assert whole["email"] == f"ada.{run_id}@example.com"

    stranger = await client.get(f"/people/{pid}", auth=tokens.as_person(f"stranger-{run_id}"))
    assert stranger.status_code == 200, stranger.text
    public = stranger.json()
    assert set(public) == PUBLIC
    for field in PRIVATE:
        assert field not in public, field
    assert "Hamburg" not in stranger.text and f"ada.{run_id}" not in stranger.text
    assert (public["display_name"], public["team"], public["time_zone"]) == (
        "Ada",
        "billing",
        "Europe/London",
    )
    assert [s["skill_id"] for s in public["skills_offered"]] == ["go"]
    assert "weekly_capacity" not in public["skills_offered"][0]  # time left is private
    assert "etag" not in stranger.headers  # the version is part of the private view

    for reader in (tokens.as_person(pid), tokens.as_person(ADMINS[0])):
        got = await client.get(f"/people/{pid}", auth=reader)
        assert got.status_code == 200, got.text
        assert got.json() == whole
        assert got.json()["manager_id"] == f"boss-{run_id}"
        assert got.json()["away_periods"] == [{"start": "2020-01-01", "end": "2099-12-31"}]
        assert [g["skill_id"] for g in got.json()["learning_goals"]] == ["rust"]


async def _stored(app: FastAPI, pid: str) -> dict[str, Any] | None:
    """The person's document, without the outbox (which the relay empties meanwhile)."""
    doc: dict[str, Any] | None = await app.state.runtime.db.people.find_one({"_id": pid})
    if doc is not None:
        doc.pop("outbox", None)
    return doc


async def test_a_strangers_changes_are_refused_and_change_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
    read_events: ReadPublished,
    run_id: str,
) -> None:
    pid, whole = await _set_up(client, run_id)
    stored = await _stored(app, pid)
    assert stored is not None and stored["version"] == whole["version"]
    stranger = tokens.as_person(f"stranger-{run_id}")
    base = f"/people/{pid}"
    refused = [
        await client.patch(base, json={"team": "stolen"}, auth=stranger),
        await client.delete(base, auth=stranger),
        await client.post(f"{base}/skills", json={"skill": "python", "level": 5}, auth=stranger),
        await client.put(f"{base}/skills/go", json={"level": 1}, auth=stranger),
        await client.delete(f"{base}/skills/go", auth=stranger),
        await client.post(
            f"{base}/learning-goals", json={"skill": "go", "target_level": 5}, auth=stranger
        ),
        await client.delete(f"{base}/learning-goals/rust", auth=stranger),
        await client.put(f"{base}/availability", json={"weekly_capacity": 0}, auth=stranger),
        await client.post(
            "/people",
            json={
                "person_id": f"other-{run_id}",
                "display_name": "Other",
                "email": f"other.{run_id}@example.com",
                "team": "t",
                "time_zone": "UTC",
            },
            auth=stranger,
        ),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]
    assert all("only" in r.json()["detail"] for r in refused)

    # The rule is decided before the store is read: an unknown person is refused alike.
    nobody = await client.patch(f"/people/nobody-{run_id}", json={"team": "x"}, auth=stranger)
    assert (nobody.status_code, nobody.json()) == (403, refused[0].json())

    assert await _stored(app, pid) == stored
    assert await _stored(app, f"other-{run_id}") is None
    assert (await client.get(base)).json() == whole
    published = await read_events(pid, want=len(SET_UP))
    assert _topics(published) == SET_UP
    assert await read_events(f"other-{run_id}", want=0, timeout=1, quiet=1) == []


async def test_the_person_changes_their_own_profile_and_registers_only_themself(
    client: httpx.AsyncClient, tokens: Tokens, read_events: ReadPublished, run_id: str
) -> None:
    pid, _ = await _set_up(client, run_id)
    me = tokens.as_person(pid)
    changed = await client.patch(f"/people/{pid}", json={"team": "payments"}, auth=me)
    assert changed.status_code == 200, changed.text
    assert changed.json()["team"] == "payments"
    offered = await client.post(
        f"/people/{pid}/skills", json={"skill": "python", "level": 2}, auth=me
    )
    assert offered.status_code == 200, offered.text

    newcomer = f"new-{run_id}"
    body = {"display_name": "New", "email": f"new.{run_id}@example.com", "team": "t"}
    someone_else = await client.post(
        "/people",
        json={**body, "person_id": f"else-{run_id}", "time_zone": "UTC"},
        auth=tokens.as_person(newcomer),
    )
    assert someone_else.status_code == 403
    themself = await client.post(
        "/people", json={**body, "time_zone": "UTC"}, auth=tokens.as_person(newcomer)
    )
    assert themself.status_code == 201, themself.text
    assert themself.headers["location"] == f"/people/{newcomer}"
    # Ids are usernames at the identity provider, which keeps them in lower case.
    capitalised = await client.post(
        "/people", json={**body, "person_id": f"Cap-{run_id}", "time_zone": "UTC"}
    )
    assert capitalised.status_code == 422
    assert "lower case" in capitalised.text
    published = await read_events(pid, want=len(SET_UP) + 2)
    assert _topics(published) == sorted([*SET_UP, "profile-updated", "skill-offered"])
