"""HTTP refusals: 422 for bad input, 404 unknown, 403 not involved, 409 invalid or stale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from matching_harness import (
    candidates_known,
    eventually,
    person_events,
    publish,
    request_events,
    running,
    settings_for,
)
from peerloop_cli.identity import Tokens

pytestmark = pytest.mark.integration


@asynccontextmanager
async def _learner_and_helper(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str, dict[str, object]]]:
    """A running service that knows a learner and a helper; the client acts as the learner
    (with a token from the identity provider) unless a call says otherwise."""
    skill = f"skill-{run_id}"
    learner, helper = f"req-{run_id}", f"h-{run_id}"
    async with running(settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id)) as (
        http,
        _service,
    ):
        await publish(
            kafka_bootstrap,
            [*person_events(learner, team="a"), *person_events(helper, team="b", skill=skill)],
        )
        await candidates_known(mongodb_uri, mongo_db_name, [learner, helper], [helper])
        ask = {"skill": skill, "desired_level": 2, "task": "a task"}
        http.auth = tokens.as_person(learner)
        yield http, learner, helper, ask


async def test_http_refusals(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    async with _learner_and_helper(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id, tokens) as (
        http,
        learner,
        helper,
        valid,
    ):
        for bad, field in (
            ({**valid, "desired_level": 7}, "desired_level"),
            ({**valid, "task": "   "}, "task"),
            ({**valid, "skill": "!!!"}, "skill"),
            ({**valid, "format": "carrier-pigeon"}, "format"),
            ({**valid, "needed_by": "2026-12-01T10:00:00"}, "needed_by"),  # no time zone
            ({**valid, "needed_by": "2020-01-01T10:00:00Z"}, "needed_by"),  # in the past
            ({**valid, "surprise": 1}, "surprise"),
            ({k: v for k, v in valid.items() if k != "task"}, "task"),
        ):
            response = await http.post("/help-requests", json=bad)
            assert response.status_code == 422, (bad, response.text)
            assert field in {str(p) for e in response.json()["detail"] for p in e["loc"]}, (
                response.text
            )

        # Nobody asks in someone else's name: the requester is the token's person.
        in_helpers_name = await http.post("/help-requests", json={**valid, "requester_id": helper})
        assert in_helpers_name.status_code == 422
        assert in_helpers_name.json()["detail"][0]["loc"] == ["body", "requester_id"]
        # A person matching has not heard of (yet) is told to retry, not refused.
        ghost = await http.post(
            "/help-requests", json=valid, auth=tokens.as_person(f"ghost-{run_id}")
        )
        assert ghost.status_code == 503, ghost.text
        assert ghost.headers["Retry-After"] == "2"
        assert "has not received the profile" in ghost.json()["detail"]

        assert (await http.get("/help-requests/r-missing")).status_code == 404
        missing = await http.post("/help-requests/r-missing/cancel", auth=tokens.as_person(learner))
        assert missing.status_code == 404

        created = (await http.post("/help-requests", json=valid)).json()
        rid = created["request_id"]

        async def proposed() -> dict | None:
            body = (await http.get(f"/help-requests/{rid}")).json()
            return body if body["state"] == "proposed" else None

        body = await eventually(proposed)
        pid = body["proposals"][0]["proposal_id"]
        accept = f"/help-requests/{rid}/proposals/{pid}/accept"

        anonymous = await http.post(accept, auth=None)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        # Only the proposed helper reads their proposal; a stranger reads nothing of it.
        as_helper = (await http.get(f"/help-requests/{rid}", auth=tokens.as_person(helper))).json()
        assert [p["helper_id"] for p in as_helper["proposals"]] == [helper]
        nosy = await http.get(f"/help-requests/{rid}", auth=tokens.as_person(f"x-{run_id}"))
        assert nosy.status_code == 403
        assert "visible to its requester" in nosy.json()["detail"]
        assert (
            await http.get(f"/help-requests/{rid}/why", auth=tokens.as_person(f"x-{run_id}"))
        ).status_code == 403
        assert (await http.post(accept, auth=tokens.as_person(learner))).status_code == 403
        stale = await http.post(
            accept,
            auth=tokens.as_person(helper),
            json={"expected_version": body["version"] - 1},
        )
        assert stale.status_code == 409 and "version" in stale.json()["detail"]
        confirm_early = await http.post(
            f"/help-requests/{rid}/session/confirm", auth=tokens.as_person(learner)
        )
        assert confirm_early.status_code == 409
        ok = await http.post(
            accept, auth=tokens.as_person(helper), json={"expected_version": body["version"]}
        )
        assert ok.status_code == 200, ok.text
        again = await http.post(accept, auth=tokens.as_person(helper))
        assert again.status_code == 409 and "already accepted" in again.json()["detail"]
        decline_after = await http.post(
            f"/help-requests/{rid}/proposals/{pid}/decline", auth=tokens.as_person(helper)
        )
        assert decline_after.status_code == 409
        cancel_after = await http.post(
            f"/help-requests/{rid}/cancel", auth=tokens.as_person(learner)
        )
        assert cancel_after.status_code == 409
        rate_early = await http.post(
            f"/help-requests/{rid}/session/feedback",
            auth=tokens.as_person(learner),
            json={"rating": 5},
        )
        assert rate_early.status_code == 409
        bad_rating = await http.post(
            f"/help-requests/{rid}/session/feedback",
            auth=tokens.as_person(learner),
            json={"rating": 6},
        )
        assert bad_rating.status_code == 422
        stranger = await http.post(
            f"/help-requests/{rid}/session/not-happened", auth=tokens.as_person(f"x-{run_id}")
        )
        assert stranger.status_code == 403
        not_happened = await http.post(
            f"/help-requests/{rid}/session/not-happened", auth=tokens.as_person(learner)
        )
        assert not_happened.json()["state"] == "not_happened"
        complete_after = await http.post(
            f"/help-requests/{rid}/session/confirm", auth=tokens.as_person(helper)
        )
        assert complete_after.status_code == 409


async def test_a_retried_ask_with_its_idempotency_key_asks_once(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    async with _learner_and_helper(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id, tokens) as (
        http,
        _learner,
        _helper,
        ask,
    ):
        key = {"Idempotency-Key": f"ask-{run_id}"}

        first = await http.post("/help-requests", json=ask, headers=key)
        again = await http.post("/help-requests", json=ask, headers=key)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        rid = first.json()["request_id"]
        assert again.json()["request_id"] == rid
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"

        other_ask = await http.post(
            "/help-requests", json={**ask, "task": "another task"}, headers=key
        )
        assert other_ask.status_code == 422
        [problem] = other_ask.json()["detail"]
        assert problem["loc"] == ["header", "Idempotency-Key"]
        assert "already used" in problem["msg"]

        bad_key = await http.post("/help-requests", json=ask, headers={"Idempotency-Key": "a b"})
        assert bad_key.status_code == 422
        assert "Idempotency-Key" in bad_key.json()["detail"][0]["loc"]

        without = [(await http.post("/help-requests", json=ask)).json() for _ in range(2)]
        assert len({r["request_id"] for r in without} | {rid}) == 3

        # One request, so one help-requested and one proposal: the retry asked nobody twice.
        events = await request_events(kafka_bootstrap, rid, want=2)
        assert [e.event_name for e, _ in events] == ["help-requested", "match-proposed"]
