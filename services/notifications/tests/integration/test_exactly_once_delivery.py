"""A proposal reaches the helper once per channel, on the real broker, store, SMTP and webhook."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_contracts.matching import MatchProposed, ScoreComponent
from peerloop_notifications.adapters.webhook_sender import SIGNATURE_HEADER, verify_signature
from peerloop_notifications.devtools.mail_catcher import MailCatcher

pytestmark = pytest.mark.integration


def proposal(run_id: str) -> MatchProposed:
    return MatchProposed(
        request_id=f"r-{run_id}",
        requester_id=f"req-{run_id}",
        proposal_id=f"pr-{run_id}",
        helper_id=f"help-{run_id}",
        skill_id="kubernetes",
        task=f"Pods crash-loop after the upgrade ({run_id})",
        score=0.77,
        breakdown=[
            ScoreComponent(
                name="skill_fit",
                weight=0.5,
                value=1.0,
                contribution=0.5,
                explanation="offers Kubernetes at level 4",
            )
        ],
        attempt=1,
        expires_at=datetime.now(UTC) + timedelta(hours=4),
        sequence=2,
    )


async def _register(
    client, as_person, publish, person, eventually, run_id: str, *, webhook_url: str | None
) -> None:
    await publish.event(person(f"req-{run_id}", name="Rita Requester"))
    await publish.event(person(f"help-{run_id}", name="Hugo Helper"))

    async def known() -> bool:
        return (
            await client.get(f"/people/help-{run_id}/preferences", auth=as_person(f"help-{run_id}"))
        ).status_code == 200

    await eventually(known)
    if webhook_url:
        answer = await client.put(
            f"/people/help-{run_id}/preferences",
            json={"expected_version": 0, "preferences": {"webhook_url": webhook_url}},
            auth=as_person(f"help-{run_id}"),
        )
        assert answer.status_code == 200, answer.text


def _mail_to(catcher, address: str):
    return [m for m in catcher.messages() if m["To"] == address]


async def test_proposal_yields_one_inbox_item_one_email_one_signed_webhook_even_when_redelivered(
    as_person,
    settings_for,
    publish,
    mail_catcher,
    webhook_receiver,
    run_id,
    kafka_bootstrap,
    running,
    eventually,
    person,
    read_topic,
    webhook_secret,
):
    helper = f"help-{run_id}"
    hook_url = f"{webhook_receiver.url}/{run_id}"
    async with running(settings_for(smtp_port=mail_catcher.port)) as (_, client):
        await _register(
            client, as_person, publish, person, eventually, run_id, webhook_url=hook_url
        )
        entry = await publish.event(proposal(run_id))
        await publish.again(entry)  # the same event delivered twice

        async def inbox():
            body = (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()
            return body if body["total"] >= 1 else None

        page = await eventually(inbox)
        mails = await eventually(lambda: _async(_mail_to(mail_catcher, f"{helper}@example.com")))
        hooks = await eventually(
            lambda: _async([r for r in webhook_receiver.received if run_id in r[0].decode()])
        )

        # Give a second copy every chance to appear before counting.
        deliveries = await eventually(
            lambda: _sent_everywhere(client, as_person, helper), timeout=30
        )
        page = (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()
        mails = _mail_to(mail_catcher, f"{helper}@example.com")
        hooks = [r for r in webhook_receiver.received if run_id in r[0].decode()]

    assert page["total"] == 1 and page["unread"] == 1
    item = page["items"][0]
    assert item["kind"] == "match-proposed"
    assert item["source_event_id"] == entry.id
    assert "Rita Requester" in item["subject"]
    assert "offers Kubernetes at level 4" in item["body"]

    assert len(mails) == 1
    mail = mails[0]
    assert mail["Subject"] == item["subject"]
    assert f"Pods crash-loop after the upgrade ({run_id})" in mail.get_content()
    assert mail["Message-ID"]
    assert str(mail["X-Peerloop-Delivery"]).strip() == f"email:{helper}:{entry.id}:match-proposed"

    assert len(hooks) == 1
    body, headers = hooks[0]
    assert verify_signature([webhook_secret], body, headers[SIGNATURE_HEADER.lower()])
    assert not verify_signature(["wrong-secret"], body, headers[SIGNATURE_HEADER.lower()])
    assert "Rita Requester" in json.loads(body)["text"]

    assert {(d["channel"], d["state"], d["attempts"]) for d in deliveries} == {
        ("email", "sent", 1),
        ("webhook", "sent", 1),
    }
    analytics = await read_topic(
        kafka_bootstrap,
        "peerloop.notification-delivered.v1",
        match=lambda r: r.key.decode().endswith(f":{helper}:{entry.id}:match-proposed"),
        want=3,
    )
    channels = sorted(json.loads(r.value)["channel"] for r in analytics)
    assert channels == ["email", "inbox", "webhook"]


async def test_a_restarted_service_rereading_everything_sends_nothing_again(
    as_person,
    settings_for,
    publish,
    mail_catcher,
    webhook_receiver,
    run_id,
    running,
    eventually,
    person,
    start_offsets,
    start_group_at,
):
    helper = f"help-{run_id}"
    hook_url = f"{webhook_receiver.url}/{run_id}"
    async with running(settings_for(smtp_port=mail_catcher.port)) as (_, client):
        await _register(
            client, as_person, publish, person, eventually, run_id, webhook_url=hook_url
        )
        await publish.event(proposal(run_id))
        await eventually(lambda: _sent_everywhere(client, as_person, helper))
    # Same store, a new consumer group starting where the first one did: every event of
    # the test is delivered again.
    group = f"test-notifications-{run_id}-again"
    await start_group_at(group, start_offsets)
    again = settings_for(smtp_port=mail_catcher.port, consumer_group=group)
    async with running(again) as (app, client):
        consumer = app.state.service.consumer
        topic = MatchProposed.topic()

        async def reread() -> bool:
            return consumer.stats.by_topic.get(topic, 0) >= 1 and consumer.stats.consumed > 0

        await eventually(reread)
        await publish.event(person(f"marker-{run_id}", name="Marker"))  # read after the proposal
        await eventually(
            lambda: _status_is(
                client,
                f"/people/marker-{run_id}/preferences",
                200,
                as_person(f"marker-{run_id}"),
            )
        )
        page = (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()
        deliveries = (
            await client.get(f"/people/{helper}/deliveries", auth=as_person(helper))
        ).json()
    assert page["total"] == 1
    assert [(d["state"], d["attempts"]) for d in deliveries] == [("sent", 1), ("sent", 1)]
    assert len(_mail_to(mail_catcher, f"{helper}@example.com")) == 1
    assert len([r for r in webhook_receiver.received if run_id in r[0].decode()]) == 1


async def test_smtp_down_then_up_delivers_after_retry(
    as_person, settings_for, publish, tmp_path, run_id, smtp_port, running, eventually, person
):
    helper = f"help-{run_id}"
    port = smtp_port
    settings = settings_for(smtp_port=port, delivery_max_attempts=50)
    async with running(settings) as (_, client):
        await _register(client, as_person, publish, person, eventually, run_id, webhook_url=None)
        await publish.event(proposal(run_id))

        async def retried():
            deliveries = (
                await client.get(f"/people/{helper}/deliveries", auth=as_person(helper))
            ).json()
            return [d for d in deliveries if d["attempts"] >= 2 and d["state"] == "pending"]

        waiting = await eventually(retried)
        assert "smtp unreachable" in waiting[0]["last_error"]

        with MailCatcher(tmp_path / "mail", port=port) as catcher:
            delivered = await eventually(lambda: _sent_everywhere(client, as_person, helper))
            mails = _mail_to(catcher, f"{helper}@example.com")
    assert delivered[0]["attempts"] >= 3
    assert len(mails) == 1


async def test_smtp_that_stays_down_fails_visibly_and_publishes_notification_failed(
    as_person,
    settings_for,
    publish,
    run_id,
    kafka_bootstrap,
    running,
    eventually,
    person,
    read_topic,
):
    helper = f"help-{run_id}"
    async with running(settings_for(delivery_max_attempts=3)) as (_, client):
        await _register(client, as_person, publish, person, eventually, run_id, webhook_url=None)
        entry = await publish.event(proposal(run_id))

        async def failed():
            deliveries = (
                await client.get(f"/people/{helper}/deliveries", auth=as_person(helper))
            ).json()
            return [d for d in deliveries if d["state"] == "failed"]

        gone = await eventually(failed)
        inbox = (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()
    assert gone[0]["attempts"] == 3 and gone[0]["channel"] == "email"
    assert inbox["total"] == 1  # the inbox does not depend on the mail server
    records = await read_topic(
        kafka_bootstrap,
        "peerloop.notification-failed.v1",
        match=lambda r: r.key.decode() == f"email:{helper}:{entry.id}:match-proposed",
        want=1,
    )
    assert len(records) == 1
    event = json.loads(records[0].value)
    assert event["attempts"] == 3 and "smtp unreachable" in event["reason"]
    assert dict(records[0].headers)["ce_type"] == b"io.peerloop.notification-failed.v1"


async def _async(value):
    return value


async def _status_is(client, url: str, status: int, auth) -> bool:
    return (await client.get(url, auth=auth)).status_code == status


async def _sent_everywhere(client, as_person, person_id: str):
    deliveries = (
        await client.get(f"/people/{person_id}/deliveries", auth=as_person(person_id))
    ).json()
    return deliveries if deliveries and all(d["state"] == "sent" for d in deliveries) else None


async def test_a_hanging_mail_server_does_not_hold_up_the_consumer(
    as_person, settings_for, publish, run_id, running, eventually, person, smtp_port
):
    from peerloop_contracts.profiles import SkillAcquired

    connections: list[asyncio.StreamWriter] = []

    async def never_greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accept, then say nothing: a stuck SMTP server

    server = await asyncio.start_server(never_greet, "127.0.0.1", smtp_port)
    me = f"busy-{run_id}"
    settings = settings_for(smtp_port=smtp_port, smtp_timeout_seconds=60.0)
    try:
        async with running(settings) as (_, client):
            await publish.event(person(me, name="Bea Busy"))

            async def known():
                return (
                    await client.get(f"/people/{me}/preferences", auth=as_person(me))
                ).status_code == 200

            await eventually(known)  # another topic: without this, no address for e-mail yet
            for n in range(3):
                await publish.event(
                    SkillAcquired(
                        person_id=me,
                        skill_id=f"skill-{n}-{run_id}",
                        skill_name=f"Skill {n}",
                        level=1,
                        teacher_id="t-1",
                        session_id=f"s-{n}",
                        acquired_at=datetime.now(UTC),
                        sequence=n + 2,
                    )
                )

            async def all_in_the_inbox():
                answer = await client.get(f"/people/{me}/inbox", auth=as_person(me))
                return answer.status_code == 200 and answer.json()["total"] == 3

            async def worker_is_stuck():
                return connections

            await eventually(worker_is_stuck)  # the mail server holds the worker now …
            await eventually(all_in_the_inbox, timeout=20)  # … and the inbox fills regardless
            deliveries = (await client.get(f"/people/{me}/deliveries", auth=as_person(me))).json()
            assert {d["state"] for d in deliveries} <= {"sending", "pending"}
            assert "sending" in {d["state"] for d in deliveries}
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
