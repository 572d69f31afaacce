"""Evidence on the real broker and store: a completed session, its 5-star feedback and an
endorsement publish `skill-evidence-changed`; who may endorse and read it over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from peerloop_cli.identity import Tokens
from peerloop_cli.realm import ADMINS
from peerloop_cli.testing.waiting import eventually
from peerloop_contracts.matching import FeedbackGiven, SessionCompleted
from peerloop_contracts.profiles import SkillEvidenceChanged
from peerloop_runtime.kafka import publish_entry
from peerloop_runtime.outbox import outbox_entry

from .conftest import ReadPublished

pytestmark = pytest.mark.integration

COMPLETED = datetime.now(UTC) - timedelta(hours=1)


async def _register(client: httpx.AsyncClient, pid: str) -> None:
    response = await client.post(
        "/people",
        json={
            "person_id": pid,
            "display_name": pid,
            "email": "x@example.com",
            "team": "t",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 201, response.text


def _session(run_id: str, learner: str, teacher: str) -> SessionCompleted:
    return SessionCompleted(
        request_id=f"r-{run_id}",
        requester_id=learner,
        session_id=f"s-{run_id}",
        learner_id=learner,
        teacher_id=teacher,
        skill_id="kubernetes",
        level=2,
        duration_minutes=45,
        completed_at=COMPLETED,
        sequence=6,
    )


def _feedback(run_id: str, learner: str, teacher: str) -> FeedbackGiven:
    return FeedbackGiven(
        request_id=f"r-{run_id}",
        requester_id=learner,
        session_id=f"s-{run_id}",
        from_id=learner,
        to_id=teacher,
        role_of_rated="teacher",
        rating=5,
        sequence=7,
    )


async def test_session_feedback_and_endorsement_publish_the_evidence(
    app: Any, client: httpx.AsyncClient, tokens: Tokens, read_events: ReadPublished, run_id: str
) -> None:
    learner, teacher = f"lea-{run_id}", f"tea-{run_id}"
    for pid in (learner, teacher):
        await _register(client, pid)
    as_learner = tokens.as_person(learner)
    url = f"/people/{teacher}/skills/k8s/endorsements"
    # Before the session: nothing to endorse.
    refused = await client.post(url, auth=as_learner)
    assert refused.status_code == 403, refused.text
    assert "no completed session" in refused.json()["detail"]

    broker = app.state.runtime.broker
    # The feedback first: the two come on different topics, in any order.
    await publish_entry(broker, outbox_entry(_feedback(run_id, learner, teacher)))
    await publish_entry(broker, outbox_entry(_session(run_id, learner, teacher)))

    async def rated() -> dict[str, Any] | None:
        answer = await client.get(f"/people/{teacher}/skills/kubernetes/evidence")
        body: dict[str, Any] = answer.json()
        return body if body["ratings"] == 1 and body["sessions_taught"] == 1 else None

    await eventually(rated, 60, interval=0.2, what="the rated session in the evidence")

    endorsed = await client.post(url, auth=as_learner)
    assert endorsed.status_code == 200, endorsed.text
    again = await client.post(url, auth=as_learner)
    assert again.json() == endorsed.json()  # once per learner
    body = endorsed.json()
    assert (body["skill_id"], body["sessions_taught"], body["endorsements"]) == (
        "kubernetes",
        1,
        1,
    )
    assert body["mean_rating"] == 5.0

    records = await read_events(teacher, want=2, topics=[SkillEvidenceChanged.topic()])
    events = [SkillEvidenceChanged.decode(r.body) for r in records]
    last = events[-1]
    assert (last.sessions_taught, last.endorsements, last.ratings, last.mean_rating) == (
        1,
        1,
        1,
        5.0,
    )
    assert last.half_life_days == 365
    # 1 for the session and 0.5 for its five stars, as of the endorsement (now, a little
    # after the session), plus 0.5 for the endorsement: just under 2.
    assert 1.9 < last.score <= 2.0
    assert last.learned is False
    assert all(r.key == teacher for r in records)
    # The session alone, then with its rating, when the session is consumed first (the two
    # topics are read in any order); the endorsement once: the repeat published nothing.
    assert [e.endorsements for e in events] in ([0, 1], [0, 0, 1])
    assert [e.ratings for e in events][-2:] == [1, 1]

    learnt = await read_events(learner, want=1, topics=[SkillEvidenceChanged.topic()])
    assert [SkillEvidenceChanged.decode(r.body).learned for r in learnt] == [True]


async def test_who_may_endorse_and_read_evidence(
    client: httpx.AsyncClient, tokens: Tokens, run_id: str
) -> None:
    helper = f"hel-{run_id}"
    await _register(client, helper)
    url = f"/people/{helper}/skills/kubernetes/endorsements"

    own = await client.post(url, auth=tokens.as_person(helper))
    assert own.status_code == 409
    assert "own skill" in own.json()["detail"]
    missing = await client.post(
        f"/people/none-{run_id}/skills/go/endorsements", auth=tokens.as_person(helper)
    )
    assert missing.status_code == 404
    service = await client.post(url)  # HR provisioning: a service account learned nothing
    assert service.status_code == 403
    assert "signed-in person" in service.json()["detail"]
    bad_skill = await client.post(
        f"/people/{helper}/skills/{'x' * 101}/endorsements", auth=tokens.as_person(helper)
    )
    assert bad_skill.status_code == 422

    evidence = f"/people/{helper}/skills/kubernetes/evidence"
    stranger = await client.get(evidence, auth=tokens.as_person(f"stranger-{run_id}"))
    assert stranger.status_code == 403
    for reader in (tokens.as_person(helper), tokens.as_person(ADMINS[0])):
        answer = await client.get(evidence, auth=reader)
        assert answer.status_code == 200
        assert (answer.json()["score"], answer.json()["evidence_level"]) == (0, 0)


async def test_erasing_the_learner_removes_their_evidence_and_name_from_the_store(
    app: Any, client: httpx.AsyncClient, tokens: Tokens, run_id: str
) -> None:
    learner, teacher = f"lea-{run_id}", f"tea-{run_id}"
    for pid in (learner, teacher):
        await _register(client, pid)
    await publish_entry(app.state.runtime.broker, outbox_entry(_session(run_id, learner, teacher)))
    url = f"/people/{teacher}/skills/kubernetes/endorsements"

    async def endorsed() -> dict[str, Any] | None:
        answer = await client.post(url, auth=tokens.as_person(learner))
        return answer.json() if answer.status_code == 200 else None

    await eventually(endorsed, 60, interval=0.3, what="the session, so the learner may endorse")
    assert (await client.delete(f"/people/{learner}")).status_code in (200, 204)

    items = app.state.service.evidence.items
    assert await items.of(learner) == []
    kept = await items.of(teacher)
    assert sorted(i.kind.value for i in kept) == ["endorsed", "taught"]
    assert all(learner not in i.key for i in kept)
    evidence = (await client.get(f"/people/{teacher}/skills/kubernetes/evidence")).json()
    assert evidence["endorsements"] == 1  # the helper keeps it, nameless
