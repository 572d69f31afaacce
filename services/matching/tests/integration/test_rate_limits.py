"""Help requests are limited per person: 429 with Retry-After; others are not affected.

An ask answered 503 (matching has not heard of the requester yet: "retry") gives its
token back, so a client retrying as told is not throttled for matching's delay.
"""

from __future__ import annotations

import pytest
from matching_harness import candidates_known, person_events, publish, running, settings_for
from peerloop_cli.identity import Tokens
from peerloop_runtime.rate_limit import RateLimitSettings

pytestmark = pytest.mark.integration


async def test_a_person_asking_too_often_gets_429_and_others_go_on(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    skill = f"skill-{run_id}"
    eager, other, helper = f"eager-{run_id}", f"other-{run_id}", f"h-{run_id}"
    settings = settings_for(
        kafka_bootstrap,
        mongodb_uri,
        mongo_db_name,
        run_id,
        rate_limit=RateLimitSettings(help_requests="3/hour"),
    )
    async with running(settings) as (http, _service):
        as_eager = tokens.as_person(eager)
        ask = {"skill": skill, "desired_level": 2, "task": "a task"}
        # Before matching knows the person, asks are refused with "retry" (503): free.
        for _ in range(4):
            assert (await http.post("/help-requests", json=ask, auth=as_eager)).status_code == 503

        await publish(
            kafka_bootstrap,
            [
                *person_events(eager, team="a"),
                *person_events(other, team="c"),
                *person_events(helper, team="b", skill=skill),
            ],
        )
        await candidates_known(mongodb_uri, mongo_db_name, [eager, other, helper], [helper])
        codes = []
        for n in range(4):
            answer = await http.post(
                "/help-requests", json={**ask, "task": f"task {n}"}, auth=as_eager
            )
            codes.append(answer.status_code)
        assert codes == [201, 201, 201, 429]
        assert 1 <= int(answer.headers["Retry-After"]) <= 1200  # a token back every 20 min
        assert answer.json()["detail"].startswith("too many help requests: at most 3 per 3600")
        # Another person is not affected.
        theirs = await http.post("/help-requests", json=ask, auth=tokens.as_person(other))
        assert theirs.status_code == 201, theirs.text
