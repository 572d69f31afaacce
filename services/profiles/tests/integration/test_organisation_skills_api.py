"""Organisation skills through the real HTTP API, store, broker and identity provider:
who may define them, the refusals and their messages, and the record every replica reads."""

from __future__ import annotations

import httpx
import pytest
from peerloop_cli.identity import BearerAuth, Tokens
from peerloop_contracts.states import OrganisationSkillDefined

from .conftest import ReadPublished

TOPIC = OrganisationSkillDefined.topic()


@pytest.fixture
async def admin(tokens: Tokens, run_id: str) -> BearerAuth:
    person = f"admin-{run_id}"
    await tokens.ensure_person(person, email=f"{person}@example.com", name="Pat Admin", admin=True)
    return tokens.as_person(person)


async def test_an_admin_defines_changes_and_removes_a_skill_and_each_change_is_published(
    client: httpx.AsyncClient, admin: BearerAuth, read_events: ReadPublished, run_id: str
) -> None:
    skill, alias = f"acme-ledger-{run_id}", f"ledger-{run_id}"
    made = await client.put(
        f"/skills/{skill}",
        json={"name": f"Acme Ledger {run_id}", "aliases": [alias], "related": ["accounting"]},
        auth=admin,
    )
    assert made.status_code == 200, made.text
    assert made.headers["ETag"] == '"1"'
    found = (await client.get("/skills", params={"q": alias[:4], "limit": 50})).json()["items"]
    assert skill in [i["id"] for i in found]
    shown = (await client.get(f"/skills/{skill}")).json()
    assert (shown["source"], shown["aliases"], shown["organisation"]["version"]) == (
        "organisation",
        [alias],
        1,
    )
    stale = await client.put(
        f"/skills/{skill}", json={"name": "Acme Ledger", "version": 0}, auth=admin
    )
    assert stale.status_code == 409, stale.text
    removed = await client.delete(f"/skills/{skill}", auth=admin, headers={"If-Match": '"1"'})
    assert removed.status_code == 204, removed.text
    assert (await client.get(f"/skills/{skill}")).status_code == 404
    assert (await client.delete(f"/skills/{skill}", auth=admin)).status_code == 404

    records = await read_events(skill, want=2, topics=[TOPIC])
    assert [r.key for r in records] == [skill, skill]
    defined = [r for r in records if r.body]
    assert defined[0].body["aliases"] == [alias] and defined[0].sequence == 1
    assert len([r for r in records if not r.body]) == 1  # the tombstone


async def test_only_an_admin_may_define_a_skill(
    client: httpx.AsyncClient, hr: BearerAuth, tokens: Tokens, run_id: str
) -> None:
    body = {"name": f"Acme Payroll {run_id}"}
    # HR provisioning manages people, not the catalogue; nor does a person.
    for auth in (hr, tokens.as_person(f"ada-{run_id}")):
        refused = await client.put(f"/skills/acme-payroll-{run_id}", json=body, auth=auth)
        assert refused.status_code == 403, refused.text
        assert "only an admin" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("skill_id", "body", "says"),
    [
        ("Acme Ledger", {"name": "Acme Ledger"}, "is not a skill id"),
        ("k8s", {"name": "K8s"}, "already names the skill 'kubernetes'"),
        ("kubernetes", {"name": "Kube"}, "only aliases can be added"),
        ("acme-new", {"name": "New", "aliases": ["k8s"]}, "already names the skill"),
        ("acme-new", {"name": "New", "aliases": [f"a{i}" for i in range(21)]}, "at most 20"),
        ("acme-new", {"name": "New", "related": ["no-such-skill-here"]}, "not a skill"),
        ("acme-new", {}, "needs a name"),
    ],
)
async def test_a_bad_definition_is_a_422_that_says_why(
    client: httpx.AsyncClient, admin: BearerAuth, skill_id: str, body: dict[str, object], says: str
) -> None:
    refused = await client.put(f"/skills/{skill_id}", json=body, auth=admin)
    assert refused.status_code == 422, refused.text
    assert says in refused.text
