"""Senders: what goes on the wire, and which failures are worth retrying."""

from __future__ import annotations

import json

import aiosmtplib
import httpx
import pytest
from peerloop_notifications.adapters import email_sender
from peerloop_notifications.adapters.email_sender import SmtpSender
from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.adapters.webhook_sender import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookSender,
    verify_signature,
)

MESSAGE = Outgoing("email:p-1:ev-1:match-proposed", "p-1@example.com", "Subject <x>", "Body & more")


def webhook(status: int, seen: list[httpx.Request]) -> WebhookSender:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return WebhookSender(secret="k", client=client)


async def test_webhook_posts_signed_slack_json():
    seen: list[httpx.Request] = []
    await webhook(200, seen).send(
        Outgoing("webhook:p-1:ev-1:x", "https://hooks.example/T/B", "Hi <b>", "a & b")
    )
    request = seen[0]
    assert json.loads(request.content) == {"text": "*Hi &lt;b&gt;*\na &amp; b"}
    assert verify_signature("k", request.content, request.headers[SIGNATURE_HEADER])
    assert request.headers[DELIVERY_HEADER] == "webhook:p-1:ev-1:x"


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True), (410, True)],
)
async def test_webhook_failures_are_retried_only_when_the_receiver_may_recover(status, permanent):
    with pytest.raises(DeliveryError) as caught:
        await webhook(status, []).send(
            Outgoing("webhook:p-1:ev-1:x", "https://hooks.example/T/B", "s", "b")
        )
    assert caught.value.permanent is permanent


def test_email_carries_a_message_id_stable_across_retries():
    sender = SmtpSender(host="127.0.0.1", port=1025, sender="Peerloop <n@peerloop.local>")
    first, again = sender.build(MESSAGE), sender.build(MESSAGE)
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] == "<email.p-1.ev-1.match-proposed@peerloop.notifications>"
    assert first["To"] == "p-1@example.com" and first.get_content().strip() == "Body & more"


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (aiosmtplib.SMTPConnectError("refused"), False),
        (aiosmtplib.SMTPResponseException(451, "try later"), False),
        (aiosmtplib.SMTPResponseException(554, "no"), True),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x")]
            ),
            True,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(452, "mailbox full", "x")]
            ),
            False,
        ),
        (TimeoutError(), False),
    ],
)
async def test_smtp_failures_are_retried_only_when_the_server_may_recover(
    monkeypatch, error, permanent
):
    async def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(email_sender.aiosmtplib, "send", fail)
    with pytest.raises(DeliveryError) as caught:
        await SmtpSender(host="127.0.0.1", port=1025, sender="n@peerloop.local").send(MESSAGE)
    assert caught.value.permanent is permanent
