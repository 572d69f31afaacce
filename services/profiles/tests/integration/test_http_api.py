"""Each endpoint's success and error paths, through the real app, store and broker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def _person(run_id: str, name: str = "ada", **extra: Any) -> dict[str, Any]:
    return {
        "person_id": f"{name}-{run_id}",
        "display_name": name.title(),
        "email": f"{name}@example.com",
        "team": "billing",
        "time_zone": "Europe/London",
        "languages": ["en"],
        **extra,
    }


async def _register(
    client: httpx.AsyncClient, run_id: str, name: str = "ada", **extra: Any
) -> dict[str, Any]:
    response = await client.post("/people", json=_person(run_id, name, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in e["loc"][1:]): e["msg"] for e in response.json()["detail"]}


async def test_register_and_get(client: httpx.AsyncClient, run_id: str) -> None:
    response = await client.post("/people", json=_person(run_id, weekly_capacity=3))
    assert response.status_code == 201
    assert response.headers["location"] == f"/people/ada-{run_id}"
    assert response.headers["etag"] == '"1"'
    got = await client.get(f"/people/ada-{run_id}")
    assert got.status_code == 200
    body = got.json()
    assert body["status"] == "active"
    assert body["version"] == 1
    assert (body["display_name"], body["email"], body["time_zone"]) == (
        "Ada",
        "ada@example.com",
        "Europe/London",
    )
    assert body["working_hours"] == {"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}
    assert body["weekly_capacity"] == 3
    assert body["sessions_taught"] == 0


async def test_register_without_an_id_generates_one(client: httpx.AsyncClient, run_id: str) -> None:
    body = _person(run_id)
    del body["person_id"]
    response = await client.post("/people", json=body)
    assert response.status_code == 201
    assert (await client.get(response.headers["location"])).status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "not an IANA time zone"),
        ({"email": "nope"}, "email", "email"),
        ({"display_name": ""}, "display_name", "at least 1"),
        ({"weekly_capacity": -1}, "weekly_capacity", "greater than or equal to 0"),
        ({"working_hours": {"start": "18:00", "end": "09:00"}}, "working_hours", "end after"),
        ({"person_id": "bad id!"}, "person_id", "pattern"),
        (
            {"away_periods": [{"start": "2027-01-02", "end": "2026-12-20"}]},
            "away_periods.0",
            "end before",
        ),
        ({"favourite_colour": "blue"}, "favourite_colour", "not permitted"),
    ],
)
async def test_register_rejects_bad_input_field_by_field(
    client: httpx.AsyncClient, run_id: str, change: dict[str, Any], field: str, message: str
) -> None:
    errors = _field_errors(await client.post("/people", json=_person(run_id, **change)))
    assert field in errors, errors
    assert message.lower() in errors[field].lower()
    assert (await client.get(f"/people/ada-{run_id}")).status_code == 404


async def test_register_rejects_a_self_managed_person(
    client: httpx.AsyncClient, run_id: str
) -> None:
    errors = _field_errors(
        await client.post("/people", json=_person(run_id, manager_id=f"ada-{run_id}"))
    )
    assert "own manager" in errors["manager_id"]


async def test_register_twice_is_a_conflict(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id)
    again = await client.post("/people", json=_person(run_id, team="other"))
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]
    assert (await client.get(f"/people/ada-{run_id}")).json()["team"] == "billing"


async def test_unknown_person_is_404_everywhere(client: httpx.AsyncClient, run_id: str) -> None:
    pid = f"nobody-{run_id}"
    calls = [
        client.get(f"/people/{pid}"),
        client.patch(f"/people/{pid}", json={"team": "x"}),
        client.delete(f"/people/{pid}"),
        client.post(f"/people/{pid}/skills", json={"skill": "go", "level": 2}),
        client.put(f"/people/{pid}/skills/go", json={"level": 2}),
        client.delete(f"/people/{pid}/skills/go"),
        client.post(f"/people/{pid}/learning-goals", json={"skill": "go", "target_level": 2}),
        client.delete(f"/people/{pid}/learning-goals/go"),
        client.put(f"/people/{pid}/availability", json={"weekly_capacity": 1}),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.request.url
        assert pid in response.json()["detail"]


async def test_update_changes_only_the_fields_sent(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id, location="London")
    response = await client.patch(
        f"/people/ada-{run_id}",
        json={"team": "payments", "location": None},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["team"], body["location"], body["display_name"], body["version"]) == (
        "payments",
        None,
        "Ada",
        2,
    )
    assert response.headers["etag"] == '"2"'


async def test_update_with_a_stale_version_is_a_conflict_and_writes_nothing(
    client: httpx.AsyncClient, run_id: str
) -> None:
    await _register(client, run_id)
    assert (
        await client.patch(f"/people/ada-{run_id}", json={"team": "a", "version": 1})
    ).status_code == 200
    stale = await client.patch(f"/people/ada-{run_id}", json={"team": "b", "version": 1})
    assert stale.status_code == 409
    assert "version 2" in stale.json()["detail"]
    stale_header = await client.patch(
        f"/people/ada-{run_id}", json={"team": "c"}, headers={"If-Match": 'W/"1"'}
    )
    assert stale_header.status_code == 409
    body = (await client.get(f"/people/ada-{run_id}")).json()
    assert (body["team"], body["version"]) == ("a", 2)


@pytest.mark.parametrize(
    ("payload", "headers", "field"),
    [
        ({"time_zone": "Moon/Base"}, {}, "time_zone"),
        ({"display_name": None}, {}, "display_name"),
        ({"email": "x"}, {}, "email"),
        ({"team": "x"}, {"If-Match": "yesterday"}, "if-match"),
    ],
)
async def test_update_rejects_bad_input(
    client: httpx.AsyncClient,
    run_id: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    field: str,
) -> None:
    await _register(client, run_id)
    response = await client.patch(f"/people/ada-{run_id}", json=payload, headers=headers)
    assert field in _field_errors(response)


async def test_offer_update_and_withdraw_a_skill(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id)
    offered = await client.post(
        f"/people/ada-{run_id}/skills",
        json={"skill": "K8s", "level": 3, "description": "helm, operators", "weekly_capacity": 2},
    )
    assert offered.status_code == 200
    assert offered.json()["skills_offered"] == [
        {
            "skill_id": "kubernetes",
            "skill_name": "Kubernetes",
            "level": 3,
            "description": "helm, operators",
            "willing_to_teach": True,
            "weekly_capacity": 2,
            "private": False,
        }
    ]
    again = await client.post(
        f"/people/ada-{run_id}/skills", json={"skill": "kubernetes", "level": 4}
    )
    assert [s["level"] for s in again.json()["skills_offered"]] == [4]
    updated = await client.put(
        f"/people/ada-{run_id}/skills/kube",
        json={"level": 5, "willing_to_teach": False},
        headers={"If-Match": '"3"'},
    )
    assert updated.status_code == 200
    assert updated.json()["skills_offered"][0]["willing_to_teach"] is False
    withdrawn = await client.delete(f"/people/ada-{run_id}/skills/k8s")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["skills_offered"] == []
    assert withdrawn.json()["version"] == 5


async def test_a_private_offer_and_a_pause_through_the_api(
    client: httpx.AsyncClient, run_id: str
) -> None:
    await _register(client, run_id)
    me = f"/people/ada-{run_id}"
    skill = f"quiet-{run_id}"
    offered = await client.post(f"{me}/skills", json={"skill": skill, "level": 3, "private": True})
    assert offered.status_code == 200
    assert [(s["skill_id"], s["private"]) for s in offered.json()["skills_offered"]] == [
        (skill, True)
    ]
    search = await client.get("/people", params={"offers": skill})
    assert search.status_code == 200 and search.json()["items"] == []
    paused = await client.put(
        f"{me}/availability", json={"weekly_capacity": 2, "proposals_paused_until": "2026-12-20"}
    )
    assert paused.status_code == 200
    assert paused.json()["proposals_paused_until"] == "2026-12-20"
    bad = await client.put(
        f"{me}/availability", json={"weekly_capacity": 2, "proposals_paused_until": "soon"}
    )
    assert "proposals_paused_until" in _field_errors(bad)
    lifted = await client.put(f"{me}/availability", json={"weekly_capacity": 2})
    assert lifted.json()["proposals_paused_until"] is None


async def test_skill_errors(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id)
    base = f"/people/ada-{run_id}/skills"
    assert "level" in _field_errors(await client.post(base, json={"skill": "go", "level": 6}))
    assert "weekly_capacity" in _field_errors(
        await client.post(base, json={"skill": "go", "level": 2, "weekly_capacity": -1})
    )
    assert "skill" in _field_errors(await client.post(base, json={"skill": "!!!", "level": 2}))
    assert "skill" in _field_errors(await client.put(f"{base}/%23%23", json={"level": 2}))
    assert (await client.put(f"{base}/go", json={"level": 2})).status_code == 404
    assert (await client.delete(f"{base}/go")).status_code == 404


async def test_learning_goals(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id)
    base = f"/people/ada-{run_id}/learning-goals"
    set_ = await client.post(base, json={"skill": "golang", "target_level": 3})
    assert set_.status_code == 200
    assert set_.json()["learning_goals"] == [
        {"skill_id": "go", "skill_name": "Go", "target_level": 3}
    ]
    assert "target_level" in _field_errors(
        await client.post(base, json={"skill": "go", "target_level": 0})
    )
    removed = await client.delete(f"{base}/Go")
    assert removed.status_code == 200
    assert removed.json()["learning_goals"] == []
    assert (await client.delete(f"{base}/go")).status_code == 404


async def test_availability(client: httpx.AsyncClient, run_id: str) -> None:
    await _register(client, run_id)
    response = await client.put(
        f"/people/ada-{run_id}/availability",
        json={
            "weekly_capacity": 4,
            "time_zone": "Asia/Kolkata",
            "working_hours": {"start": "10:00", "end": "18:00", "days": [1, 2, 3]},
            "away_periods": [{"start": "2020-01-01", "end": "2099-12-31"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["weekly_capacity"], body["time_zone"], body["status"], body["away_until"]) == (
        4,
        "Asia/Kolkata",
        "away",
        "2099-12-31",
    )
    errors = _field_errors(
        await client.put(f"/people/ada-{run_id}/availability", json={"weekly_capacity": 51})
    )
    assert "weekly_capacity" in errors
    errors = _field_errors(
        await client.put(
            f"/people/ada-{run_id}/availability", json={"weekly_capacity": 1, "time_zone": "Here"}
        )
    )
    assert "time_zone" in errors


async def test_people_offering_a_skill_are_listed_in_pages(
    client: httpx.AsyncClient, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    for name in ("ann", "bob", "cyd", "dan", "eve"):
        await _register(client, run_id, name)
        if name != "cyd":
            await client.post(f"/people/{name}-{run_id}/skills", json={"skill": skill, "level": 2})
    first = (await client.get("/people", params={"offers": skill.upper(), "limit": 3})).json()
    assert first["skill_id"] == skill
    assert [p["person_id"] for p in first["items"]] == [
        f"{n}-{run_id}" for n in ("ann", "bob", "dan")
    ]
    assert first["items"][0]["offer"]["level"] == 2
    second = (
        await client.get(
            "/people", params={"offers": skill, "limit": 3, "after": first["next_after"]}
        )
    ).json()
    assert [p["person_id"] for p in second["items"]] == [f"eve-{run_id}"]
    assert second["next_after"] is None
    assert "offers" in _field_errors(await client.get("/people"))
    assert "limit" in _field_errors(
        await client.get("/people", params={"offers": skill, "limit": 0})
    )


async def test_erase_removes_personal_data_and_refuses_changes(
    client: httpx.AsyncClient, run_id: str
) -> None:
    skill = f"skill-{run_id}"
    await _register(client, run_id, location="London")
    await client.post(
        f"/people/ada-{run_id}/skills", json={"skill": skill, "level": 2, "description": "call me"}
    )
    erased = await client.delete(f"/people/ada-{run_id}")
    assert erased.status_code == 204
    body = (await client.get(f"/people/ada-{run_id}")).json()
    assert body["status"] == "erased"
    assert body["erased_at"] is not None
    for field in ("display_name", "email", "team", "location", "time_zone", "working_hours"):
        assert body[field] is None, field
    assert body["skills_offered"] == body["languages"] == []
    assert (await client.get("/people", params={"offers": skill})).json()["items"] == []
    refused = await client.patch(f"/people/ada-{run_id}", json={"team": "x"})
    assert refused.status_code == 409
    assert "erased" in refused.json()["detail"]
    assert (
        await client.post(f"/people/ada-{run_id}/skills", json={"skill": "go", "level": 1})
    ).status_code == 409
    assert (await client.delete(f"/people/ada-{run_id}")).status_code == 204
    assert (await client.post("/people", json=_person(run_id))).status_code == 409


async def test_openapi_documents_every_endpoint(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["paths"]) >= {
        "/people",
        "/people/{person_id}",
        "/people/{person_id}/skills",
        "/people/{person_id}/skills/{skill}",
        "/people/{person_id}/learning-goals",
        "/people/{person_id}/learning-goals/{skill}",
        "/people/{person_id}/availability",
    }
    assert "409" in spec["paths"]["/people/{person_id}"]["patch"]["responses"]
