"""SCIM 2.0 provisioning on the live profiles service, checked by an independent
conformance checker (scim2-tester), and its effect on matching on the real broker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import httpx2
import pytest
from peerloop_cli.identity import SERVICES, Tokens
from peerloop_cli.loop_client import PeerloopClient, wait_for
from peerloop_cli.platform import Deployment
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

pytestmark = pytest.mark.e2e

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GOOD = (Status.SUCCESS, Status.COMPLIANT)


async def _scim_token(tokens: Tokens) -> str:
    return await tokens.service_account(*SERVICES["scim"])


def _user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "displayName": user_name.split("@")[0].title(),
        "emails": [{"value": user_name, "primary": True, "type": "work"}],
        "active": True,
        ENTERPRISE: {"department": "provisioned"},
        **extra,
    }


def _active(value: bool) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": value}]}


async def test_scim2_tester_finds_no_failure(deployment: Deployment, tokens: Tokens) -> None:
    """Every check of scim2-tester (discovery, CRUD, PATCH add/replace/remove, attribute
    queries, errors) against the live service, authenticated as the provisioning client."""
    token = await _scim_token(tokens)
    with httpx2.Client(
        base_url=f"{deployment.url('profiles')}/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as http:
        started = time.monotonic()
        results = await asyncio.to_thread(check_server, SyncSCIMClient(http))
        took = time.monotonic() - started
    failures = [
        f"{r.resource_type} {r.title}: {r.status.name} {r.reason}"
        for r in results
        if r.status not in GOOD
    ]
    assert failures == [], "\n".join(failures)
    # Every kind of check ran, for both resource types.
    titles = {(r.resource_type, r.title) for r in results}
    for kind in ("User", "Group"):
        for check in ("object_creation", "object_replacement", "object_deletion"):
            assert (kind, check) in titles
    assert len(results) >= 80, f"only {len(results)} checks ran"
    print(f"scim2-tester: {len(results)} checks in {took:.1f}s")


async def test_only_the_provisioning_client_may_provision(
    deployment: Deployment, tokens: Tokens, run_id: str
) -> None:
    base = f"{deployment.url('profiles')}/scim/v2"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        anonymous = await http.get("/Users")
        person = await http.get("/Users", auth=tokens.as_person(f"scim-p-{run_id}"))
        hr = await http.get("/Users", auth=tokens.as_service(*SERVICES["hr"]))
        config = await http.get("/ServiceProviderConfig")
    assert anonymous.status_code == 401
    assert anonymous.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert person.status_code == 403 and "scim:provision" in person.json()["detail"]
    assert hr.status_code == 403
    assert config.status_code == 200  # RFC 7643 §5: readable without authentication


async def test_identity_system_retries_and_bad_input_get_scim_answers(
    deployment: Deployment, tokens: Tokens, run_id: str
) -> None:
    base = f"{deployment.url('profiles')}/scim/v2"
    headers = {"Authorization": f"Bearer {await _scim_token(tokens)}"}
    name = f"retry-{run_id}@example.com"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        first = await http.post("/Users", json=_user(name, externalId=f"ext-{run_id}"))
        again = await http.post("/Users", json=_user(name.upper()))
        assert first.status_code == 201, first.text
        assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
        user_id = first.json()["id"]
        found = await http.get("/Users", params={"filter": f'userName eq "{name}"'})
        by_external = await http.get("/Users", params={"filter": f'externalId eq "ext-{run_id}"'})
        assert [u["id"] for u in found.json()["Resources"]] == [user_id]
        assert [u["id"] for u in by_external.json()["Resources"]] == [user_id]

        # The same PATCH twice: one change, the second changes nothing (same version).
        version = first.json()["meta"]["version"]

        async def version_after(patch: dict[str, Any]) -> str:
            answer = await http.patch(f"/Users/{user_id}", json=patch)
            assert answer.status_code in (200, 204), answer.text  # RFC 7644 §3.5.2: either
            now = await http.get(f"/Users/{user_id}")
            assert now.headers["ETag"] == now.json()["meta"]["version"]
            return str(now.json()["meta"]["version"])

        patched = await version_after(_active(False))
        repeated = await version_after(_active(False))
        assert version != patched == repeated
        stale = await http.patch(
            f"/Users/{user_id}", json=_active(True), headers={"If-Match": version}
        )
        assert stale.status_code == 412

        # Paging: startIndex is 1-based, count caps the page, totalResults counts all.
        for n in range(3):
            made = await http.post("/Users", json=_user(f"page{n}-{run_id}@example.com"))
            assert made.status_code == 201, made.text
        page = await http.get(
            "/Users",
            params={"filter": f'userName ew "-{run_id}@example.com"', "startIndex": 2, "count": 2},
        )
        body = page.json()
        assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (4, 2, 2)
        assert len(body["Resources"]) == 2

        bad_filter = await http.get("/Users", params={"filter": "userName eq"})
        no_email = await http.post("/Users", json={"schemas": [USER], "userName": f"x-{run_id}"})
        bad_member = await http.post(
            "/Groups",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": f"team-{run_id}",
                "members": [{"value": "p-nobody"}],
            },
        )
        broken = await http.post(
            "/Users", content=b"{not json", headers={"Content-Type": "application/scim+json"}
        )
        assert bad_filter.status_code == 400 and bad_filter.json()["scimType"] == "invalidFilter"
        assert no_email.status_code == 400
        assert bad_member.status_code == 400 and bad_member.json()["scimType"] == "invalidValue"
        assert broken.status_code == 400

        # The person is there, inactive, as profiles shows them.
        person = await http.get(
            f"{deployment.url('profiles')}/people/{user_id}",
            auth=tokens.as_service(*SERVICES["hr"]),
        )
        assert person.json()["status"] == "inactive"
        assert person.json()["team"] == "provisioned"

        gone = await http.delete(f"/Users/{user_id}")
        assert gone.status_code == 204
        assert (await http.get(f"/Users/{user_id}")).status_code == 404
        erased = await http.get(
            f"{deployment.url('profiles')}/people/{user_id}",
            auth=tokens.as_service(*SERVICES["hr"]),
        )
        assert erased.json()["status"] == "erased"


async def test_a_deactivated_person_leaves_matching_within_seconds(
    deployment: Deployment, client: PeerloopClient, tokens: Tokens, run_id: str
) -> None:
    """SCIM `active: false` moves the person's pending proposal on to the next helper and
    keeps them out of new matches; `active: true` brings them back."""
    base = f"{deployment.url('profiles')}/scim/v2"
    headers = {"Authorization": f"Bearer {await _scim_token(tokens)}"}
    skill = f"scim-skill-{run_id}"
    requester = f"asker-{run_id}"
    await client.register(requester, "Asker", "asking", "Europe/Berlin")
    hr = tokens.as_service(*SERVICES["hr"])
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        helpers: list[str] = []
        for n in ("ann", "bob"):
            made = await http.post("/Users", json=_user(f"{n}-{run_id}@example.com"))
            assert made.status_code == 201, made.text
            helpers.append(made.json()["id"])
            offered = await http.post(
                f"{deployment.url('profiles')}/people/{made.json()['id']}/skills",
                json={"skill": skill, "level": 4, "weekly_capacity": 3},
                auth=hr,
            )
            assert offered.status_code == 200, offered.text

        async def ask() -> dict[str, Any]:
            asked = await client.ask(requester, skill, 2, "help with the provisioned skill")
            return await client.wait_for_request(
                asked["request_id"],
                lambda r: r["state"] in ("proposed", "waiting", "unmatched"),
                60,
            )

        request = await wait_for(
            ask, lambda r: r["state"] == "proposed", 60, "a proposal to a provisioned helper"
        )
        first = client.pending_proposal(request)
        assert first is not None and first["helper_id"] in helpers
        other = next(h for h in helpers if h != first["helper_id"])

        started = time.monotonic()
        deactivated = await http.patch(f"/Users/{first['helper_id']}", json=_active(False))
        assert deactivated.status_code in (200, 204), deactivated.text
        moved = await client.wait_for_request(
            request["request_id"],
            lambda r: (p := client.pending_proposal(r)) is not None and p["helper_id"] == other,
            30,
        )
        took = time.monotonic() - started
        assert took < 15, f"the proposal moved on only after {took:.1f}s"
        declined = next(p for p in moved["proposals"] if p["helper_id"] == first["helper_id"])
        assert declined["status"] == "declined"

        # Both out: nobody is left to propose, so the request waits (every helper asked);
        # the deactivated one is never proposed again.
        await http.patch(f"/Users/{other}", json=_active(False))
        ended = await client.wait_for_request(
            request["request_id"], lambda r: r["state"] == "waiting", 30
        )
        assert ended["waiting_reason"] == "all_declined"
        assert [p["helper_id"] for p in ended["proposals"]].count(first["helper_id"]) == 1

        # Reactivated, the first helper is proposed again.
        await http.patch(f"/Users/{first['helper_id']}", json=_active(True))
        back = await wait_for(
            ask, lambda r: r["state"] == "proposed", 60, "a proposal after reactivation"
        )
        proposal = client.pending_proposal(back)
        assert proposal is not None and proposal["helper_id"] == first["helper_id"]
