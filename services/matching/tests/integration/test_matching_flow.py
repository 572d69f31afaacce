"""The whole matching loop on the real broker and store, through HTTP and Kafka."""

from __future__ import annotations

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


async def test_request_decline_second_proposal_accept_complete_feedback(
    kafka_bootstrap: str, mongodb_uri: str, mongo_db_name: str, run_id: str, tokens: Tokens
) -> None:
    skill = f"skill-{run_id}"
    learner, first, second = f"req-{run_id}", f"h1-{run_id}", f"h2-{run_id}"
    settings = settings_for(kafka_bootstrap, mongodb_uri, mongo_db_name, run_id)
    async with running(settings) as (http, service):
        await publish(
            kafka_bootstrap,
            [
                *person_events(learner, team="billing"),
                # Another team: the cross-team bonus puts them first.
                *person_events(first, team="payments", skill=skill),
                *person_events(second, team="billing", skill=skill),
            ],
        )
        await candidates_known(
            mongodb_uri, mongo_db_name, [learner, first, second], [first, second]
        )

        created = await http.post(
            "/help-requests",
            auth=tokens.as_person(learner),
            json={
                "skill": skill.upper(),  # names are normalised to the canonical id
                "desired_level": 3,
                "task": "our consumer lags behind after a rebalance",
                "format": "pairing",
                "max_minutes": 45,
            },
        )
        assert created.status_code == 201, created.text
        request_id = created.json()["request_id"]
        assert created.json()["skill_id"] == skill

        async def proposed() -> dict | None:
            body = (
                await http.get(f"/help-requests/{request_id}", auth=tokens.as_person(learner))
            ).json()
            return body if body["state"] == "proposed" else None

        body = await eventually(proposed)
        [proposal] = body["proposals"]
        assert proposal["helper_id"] == first
        why = (
            await http.get(f"/help-requests/{request_id}/why", auth=tokens.as_person(learner))
        ).json()
        components = {c["name"]: c for c in why[0]["breakdown"]}
        assert components["cross_team"]["value"] == 1.0
        assert why[0]["score"] == pytest.approx(
            sum(c["contribution"] for c in components.values()), abs=1e-3
        )

        declined = await http.post(
            f"/help-requests/{request_id}/proposals/{proposal['proposal_id']}/decline",
            auth=tokens.as_person(first),
            json={"reason": "on call this week"},
        )
        assert declined.status_code == 200, declined.text
        assert declined.json()["state"] == "proposed", declined.text
        # The decliner sees only their own proposal; the requester sees who is asked next.
        assert [p["helper_id"] for p in declined.json()["proposals"]] == [first]
        as_learner = await http.get(f"/help-requests/{request_id}", auth=tokens.as_person(learner))
        next_proposal = as_learner.json()["proposals"][1]
        assert (next_proposal["helper_id"], next_proposal["attempt"]) == (second, 2)
        # The decliner's reserved capacity is released; the new helper's is held.
        assert service.index.get(first).reservations == ()
        assert len(service.index.get(second).reservations) == 1

        accepted = await http.post(
            f"/help-requests/{request_id}/proposals/{next_proposal['proposal_id']}/accept",
            auth=tokens.as_person(second),
            json={"scheduled_at": "2026-12-03T15:00:00Z"},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["session"]["teacher_id"] == second

        for who, minutes in ((learner, 40), (second, 45)):
            confirmed = await http.post(
                f"/help-requests/{request_id}/session/confirm",
                auth=tokens.as_person(who),
                json={"duration_minutes": minutes},
            )
            assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["state"] == "completed"

        for who, rating in ((learner, 5), (second, 4)):
            rated = await http.post(
                f"/help-requests/{request_id}/session/feedback",
                auth=tokens.as_person(who),
                json={"rating": rating, "comment": "thanks"},
            )
            assert rated.status_code == 200, rated.text

        events = await request_events(kafka_bootstrap, request_id, want=8)
        assert [(e.event_name, e.sequence) for e, _ in events] == [
            ("help-requested", 1),
            ("match-proposed", 2),
            ("match-declined", 3),
            ("match-proposed", 4),
            ("match-accepted", 5),
            ("session-completed", 6),
            ("feedback-given", 7),
            ("feedback-given", 8),
        ]
        for event, headers in events:
            assert headers["ce_specversion"] == "1.0"
            assert headers["ce_source"] == "peerloop/matching"
            assert headers["ce_type"] == f"io.peerloop.{event.event_name}.v1"
            assert headers["ce_subject"] == request_id
            assert headers["content-type"] == "application/json"
            assert headers["ce_time"]
        assert len({h["ce_id"] for _, h in events}) == 8
        by_name = [e for e, _ in events]
        assert by_name[1].helper_id == first and by_name[3].helper_id == second  # type: ignore[attr-defined]
        assert by_name[2].will_retry is True  # type: ignore[attr-defined]
        completed = by_name[5]
        assert (completed.learner_id, completed.teacher_id, completed.skill_id) == (  # type: ignore[attr-defined]
            learner,
            second,
            skill,
        )
        assert completed.duration_minutes == 45  # type: ignore[attr-defined]

        # Matching consumes its own feedback-given: the teacher's rating counts, the learner's not.
        async def rated() -> bool:
            helper = await service.candidates.get(second)
            return helper is not None and helper.rating_count == 1

        await eventually(rated)
        helper = await service.candidates.get(second)
        assert helper.rating_sum == 5
        assert [r.kind for r in helper.reservations] == ["session"]
        assert helper.partners == (learner,)
        assert (await service.candidates.get(learner)).rating_count == 0
