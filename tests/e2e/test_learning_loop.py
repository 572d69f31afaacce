"""The whole learning loop across the three services, as separate processes."""

from __future__ import annotations

import asyncio
import email
from datetime import date, timedelta
from typing import Any

import pytest
from peerloop_cli.demo import _ask_when_known, _wait_proposed, ask_until_proposed
from peerloop_cli.loop_client import PeerloopClient, wait_for
from peerloop_cli.platform import Deployment
from peerloop_cli.testing.topics import read_records

pytestmark = pytest.mark.e2e

REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


async def _events_for(bootstrap: str, topics: list[str], key: str, want: int) -> list[Any]:
    """Every record with this key on these topics, in partition order per topic."""
    return await read_records(
        bootstrap, topics, match=lambda r: r.key == key.encode(), want=want, within=60
    )


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def test_full_loop_then_the_learner_teaches_onward(
    client: PeerloopClient, deployment: Deployment, kafka_bootstrap: str, run_id: str
) -> None:
    ada, bo, cy, dee = (f"{n}-{run_id}" for n in ("ada", "bo", "cy", "dee"))
    skill = f"skill-{run_id}"
    await client.register(ada, "Ada", "billing", "Europe/London")
    await client.register(bo, "Bo", "data", "Europe/Berlin")
    await client.register(cy, "Cy", "platform", "America/New_York")
    await client.register(dee, "Dee", "web", "Asia/Kolkata")
    await client.offer(bo, skill, level=4, capacity=2)
    await client.offer(cy, skill, level=5, capacity=1)

    # ask → proposal → decline → next proposal → accept
    rid, first = await ask_until_proposed(client, ada, skill)
    assert first["helper_id"] in (bo, cy)
    assert {part["name"] for part in first["breakdown"]} >= {"skill_fit"}
    await client.decide(rid, first["proposal_id"], first["helper_id"], "decline")
    second = await _wait_proposed(client, rid, attempt=2)
    teacher = second["helper_id"]
    assert teacher in (bo, cy) and teacher != first["helper_id"]
    await client.decide(rid, second["proposal_id"], teacher, "accept")

    # both confirm → session-completed; both give feedback
    await client.confirm(rid, teacher)
    await client.confirm(rid, ada)
    await client.feedback(rid, ada, 5, "exactly what I needed")
    await client.feedback(rid, teacher, 4, "good questions")

    # the learner gains the skill and is invited to teach it onward
    learner = await wait_for(
        lambda: client.person(ada),
        lambda p: any(s["skill_id"] == skill for s in p.get("skills_learned", [])),
        60,
        "the learner's new skill",
    )
    assert [s["teacher_id"] for s in learner["skills_learned"]] == [teacher]
    invitation = await client.wait_for_inbox(ada, "teach-back-invitation")
    assert len(invitation) == 1

    # every event of the request, in order, with CloudEvents headers
    matching_topics = [
        f"peerloop.{name}.v1"
        for name in (
            "help-requested",
            "match-proposed",
            "match-declined",
            "match-accepted",
            "session-completed",
            "feedback-given",
        )
    ]
    records = await _events_for(kafka_bootstrap, matching_topics, rid, want=8)
    ordered = sorted(records, key=lambda r: _headers(r)["ce_time"])
    types = [_headers(r)["ce_type"].split(".")[2] for r in ordered]
    assert sorted(types) == sorted(
        [
            "help-requested",
            "match-proposed",
            "match-declined",
            "match-proposed",
            "match-accepted",
            "session-completed",
            "feedback-given",
            "feedback-given",
        ]
    )
    import json

    sequences = {json.loads(r.value)["sequence"]: _headers(r)["ce_type"] for r in records}
    assert len(sequences) == 8, "each event of the request carries its own sequence number"
    by_sequence = [sequences[s].split(".")[2] for s in sorted(sequences)]
    assert by_sequence[:2] == ["help-requested", "match-proposed"]
    assert by_sequence[-3:] == ["session-completed", "feedback-given", "feedback-given"]
    for record in records:
        headers = _headers(record)
        assert all(headers.get(h) for h in REQUIRED_HEADERS)
        assert headers["ce_subject"] == rid
        assert headers["content-type"] == "application/json"
    assert len({_headers(r)["ce_id"] for r in records}) == 8

    acquired = await _events_for(kafka_bootstrap, ["peerloop.skill-acquired.v1"], ada, want=1)
    assert len(acquired) == 1
    assert json.loads(acquired[0].value)["teacher_id"] == teacher

    # notifications: each helper heard of their proposal once; the requester of the outcome
    assert len(await client.wait_for_inbox(first["helper_id"], "match-proposed")) == 1
    assert len(await client.wait_for_inbox(teacher, "match-proposed")) == 1
    await client.wait_for_inbox(ada, "match-accepted")
    await client.wait_for_inbox(ada, "session-completed")
    await client.wait_for_inbox(teacher, "session-completed")

    # e-mail reached the real SMTP catcher
    def mails_to(person: str) -> list[email.message.Message]:
        found = []
        for path in deployment.mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            if person in str(message["To"]):
                found.append(message)
        return found

    async def teacher_mail() -> list[email.message.Message]:
        return mails_to(teacher)

    assert await wait_for(teacher_mail, lambda m: len(m) >= 1, 60, "e-mail to the teacher")

    # the learner teaches onward: with the others away or at capacity, Ada is matched
    await client.offer(ada, skill, level=3, capacity=2)
    today = date.today()
    other = bo if teacher == cy else cy
    await client.set_away(other, today.isoformat(), (today + timedelta(days=14)).isoformat())
    await client.set_away(teacher, today.isoformat(), (today + timedelta(days=14)).isoformat())
    await asyncio.sleep(5)  # matching applies the availability events (another topic)
    onward = await _ask_when_known(client, dee, skill)
    proposal = await _wait_proposed(client, onward["request_id"], attempt=1)
    assert proposal["helper_id"] == ada
    assert len(await client.wait_for_inbox(ada, "match-proposed")) == 1


async def test_one_help_request_is_one_trace_across_the_services(
    client: PeerloopClient, deployment: Deployment, kafka_bootstrap: str, run_id: str
) -> None:
    asker, helper = f"tr-a-{run_id}", f"tr-h-{run_id}"
    skill = f"trace-{run_id}"
    await client.register(asker, "Asker", "billing", "Europe/London")
    await client.register(helper, "Helper", "data", "Europe/London")
    await client.offer(helper, skill, level=4, capacity=3)
    trace_id = run_id.ljust(32, "0")[:32]
    traceparent = f"00-{trace_id}-1111111111111111-01"

    # A first ask until matching knows the new offer, so the traced ask below is proposed
    # by its own handler (one proposed later by a wake-up stays in its trace too: unit
    # test `test_a_proposal_made_later_by_a_wake_up_continues_the_ask_s_trace`).
    await ask_until_proposed(client, asker, skill)
    await asyncio.sleep(1)  # every replica's index follows the store within 0.5 s
    request_id, _ = await ask_until_proposed(client, asker, skill, traceparent=traceparent)
    topics = ["peerloop.help-requested.v1", "peerloop.match-proposed.v1"]
    records = await _events_for(kafka_bootstrap, topics, request_id, want=2)
    assert {_headers(r)["traceparent"].split("-")[1] for r in records} == {trace_id}

    async def notifications_log() -> str:
        # Whichever replica owns the request's partition consumed it.
        return "\n".join(
            deployment.process("notifications", replica).log_tail(5000)
            for replica in deployment.replicas("notifications")
        )

    log = await wait_for(
        notifications_log, lambda text: trace_id in text, 60, "the notifications consumer span"
    )
    assert "peerloop.match-proposed.v1 process" in log
