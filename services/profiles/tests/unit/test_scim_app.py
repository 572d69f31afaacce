"""The SCIM app in process, on the in-memory stores and an in-memory token issuer: who may
call it, and that outages and refusals are SCIM errors rather than 500s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from peerloop_profiles.adapters.memory_directory import InMemoryDirectory
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.application.provisioning import Provisioning
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.directory import EntryKind
from peerloop_profiles.entrypoints.scim.app import SCIM_SCOPE, ScimApp
from peerloop_runtime.auth import TokenVerifier
from peerloop_runtime.auth.testing import LocalIssuer
from pymongo.errors import AutoReconnect

ISSUER = LocalIssuer()
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ada@example.com",
    "emails": [{"value": "ada@example.com"}],
}


class UnreachableDirectory(InMemoryDirectory):
    async def find(self, kind: EntryKind, **_narrowing: Any) -> list[Any]:
        raise AutoReconnect("connection refused")


def _app(directory: InMemoryDirectory) -> ScimApp:
    profiles = Profiles(InMemoryPersonRepository())
    verifier = TokenVerifier(ISSUER.settings(), ISSUER.key_source)
    return ScimApp(Provisioning(profiles, directory), verifier)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(InMemoryDirectory()))
    async with httpx.AsyncClient(transport=transport, base_url="http://scim/v2") as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("not-a-jwt", 401),
        (ISSUER.person_token("p-admin", groups=["peerloop-admins"], scope=SCIM_SCOPE), 403),
        (ISSUER.service_token("peerloop-hr", "profiles:provision"), 403),
        (ISSUER.service_token("peerloop-scim", SCIM_SCOPE), 201),
    ],
)
async def test_only_a_service_account_with_the_scim_scope_provisions(
    http: httpx.AsyncClient, token: str | None, status: int
) -> None:
    answer = await http.post("/Users", json=USER, headers=_bearer(token) if token else {})
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.json()["schemas"] == [ERROR]


async def test_a_store_outage_is_a_503_to_retry(http: httpx.AsyncClient) -> None:
    transport = httpx.ASGITransport(app=_app(UnreachableDirectory()))
    async with httpx.AsyncClient(transport=transport, base_url="http://scim/v2") as client:
        answer = await client.post(
            "/Users", json=USER, headers=_bearer(ISSUER.service_token("s", SCIM_SCOPE))
        )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["schemas"] == [ERROR]


async def test_a_domain_refusal_is_a_scim_invalid_value(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        "/Groups",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x" * 101},
        headers=_bearer(ISSUER.service_token("s", SCIM_SCOPE)),
    )
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidValue"
    assert "displayName" in answer.json()["detail"]


async def test_entra_ids_patch_dialect_is_understood() -> None:
    """Capitalised ops, booleans as strings and the manager as a bare id, as Entra ID sends."""
    people = InMemoryPersonRepository()
    profiles = Profiles(people)
    app = ScimApp(
        Provisioning(profiles, InMemoryDirectory()),
        TokenVerifier(ISSUER.settings(), ISSUER.key_source),
    )
    headers = _bearer(ISSUER.service_token("entra", SCIM_SCOPE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://scim/v2", headers=headers
    ) as client:
        boss = (await client.post("/Users", json={**USER, "userName": "boss"})).json()["id"]
        ada = (await client.post("/Users", json=USER)).json()["id"]
        answer = await client.patch(
            f"/Users/{ada}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "Replace", "path": "active", "value": "False"},
                    {
                        "op": "Add",
                        "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                        "value": boss,
                    },
                ],
            },
        )
    assert answer.status_code in (200, 204), answer.text
    person = await profiles.get(ada)
    assert not person.active
    assert person.details is not None and person.details.manager_id == boss
