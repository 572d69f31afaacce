"""Nobody acts or reads as someone else: every impersonation the old header allowed, tried
against the services as processes with real tokens from the identity provider."""

from __future__ import annotations

import httpx
import pytest
from peerloop_cli.demo import ask_until_proposed
from peerloop_cli.identity import Tokens
from peerloop_cli.loop_client import PeerloopClient
from peerloop_cli.platform import Deployment

pytestmark = pytest.mark.e2e


async def test_impersonation_is_refused_and_changes_nothing(
    client: PeerloopClient, deployment: Deployment, tokens: Tokens, run_id: str
) -> None:
    ada, bo, eve = f"ada-{run_id}", f"bo-{run_id}", f"eve-{run_id}"
    skill = f"imp-{run_id}"
    for person, team in ((ada, "billing"), (bo, "data"), (eve, "web")):
        await client.register(person, person.title(), team, "Europe/London")
    await client.offer(bo, skill, level=4)
    rid, proposal = await ask_until_proposed(client, ada, skill)
    assert proposal["helper_id"] == bo
    profiles, matching = deployment.url("profiles"), deployment.url("matching")
    notifications = deployment.url("notifications")
    as_eve = tokens.as_person(eve)

    async with httpx.AsyncClient(timeout=30) as http:
        # No token at all: 401 with the bearer challenge, everywhere but health.
        for url in (f"{profiles}/people/{ada}", f"{notifications}/people/{ada}/inbox"):
            anonymous = await http.get(url)
            assert anonymous.status_code == 401, url
            assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await http.get(f"{matching}/healthz")).status_code == 200

        # Reading someone else's private data.
        public = (await http.get(f"{profiles}/people/{ada}", auth=as_eve)).json()
        assert public["display_name"] == ada.title()
        assert not {"email", "manager_id", "location", "away_periods", "learning_goals"} & set(
            public
        )
        for path in ("inbox", "preferences", "deliveries"):
            refused = await http.get(f"{notifications}/people/{ada}/{path}", auth=as_eve)
            assert refused.status_code == 403, path
        assert (await http.get(f"{matching}/help-requests/{rid}", auth=as_eve)).status_code == 403

        # Changing someone else's profile: e-mail, webhook-bearing preferences.
        patched = await http.patch(
            f"{profiles}/people/{ada}", json={"email": "eve@evil.example"}, auth=as_eve
        )
        assert patched.status_code == 403
        assert "only the person, an admin" in patched.json()["detail"]
        prefs = await http.put(
            f"{notifications}/people/{ada}/preferences",
            json={"expected_version": 0, "preferences": {}},
            auth=as_eve,
        )
        assert prefs.status_code == 403

        # Asking in someone else's name, and answering a proposal meant for someone else.
        in_adas_name = await http.post(
            f"{matching}/help-requests",
            json={"requester_id": ada, "skill": skill, "desired_level": 2, "task": "x"},
            auth=as_eve,
        )
        assert in_adas_name.status_code == 422
        answer = f"{matching}/help-requests/{rid}/proposals/{proposal['proposal_id']}"
        for verb in ("accept", "decline"):
            stolen = await http.post(f"{answer}/{verb}", json={}, auth=as_eve)
            assert stolen.status_code == 403, verb
        cancelled = await http.post(f"{matching}/help-requests/{rid}/cancel", json={}, auth=as_eve)
        assert cancelled.status_code == 403

    # Nothing changed: Ada's e-mail, the pending proposal, and Ada's own view still work.
    assert (await client.person(ada))["email"] == f"{ada}@example.com"
    request = await client.request(rid)
    assert request["state"] == "proposed"
    pending = client.pending_proposal(request)
    assert pending is not None
    assert (pending["proposal_id"], pending["helper_id"]) == (proposal["proposal_id"], bo)
